// Thread churn (issue 9): 100,000 short-lived threads that each take locks. Per-thread state is
// released when a thread exits, so neither the heap nor the validator's tables grow with the
// number of threads that have come and gone; and among them a known set of threads each causes
// one distinct problem, which is reported exactly once and attributed to that thread.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/state.hpp"
#include "lockdep/testing.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CHURN_TEST_SANITIZED_HEAP 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHURN_TEST_SANITIZED_HEAP 1
#endif

#ifdef CHURN_TEST_SANITIZED_HEAP
// Declared here: GCC installs no <sanitizer/allocator_interface.h>, though its ASan and TSan
// runtimes export this.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

namespace {

constexpr std::size_t total_threads = 100'000;
// The heap and the tables are measured after this many threads (when every allocator cache and
// every chain of the ordinary threads exists) and again at the end.
constexpr std::size_t warm_up_threads = 10'000;
constexpr std::size_t threads_at_once = 8;
// The last threads_at_once threads of every block of this many are problem threads, which run
// at once, so their reports are made concurrently: 160 of them.
constexpr std::size_t problem_block = 5'000;
constexpr std::size_t problem_count = total_threads / problem_block * threads_at_once;
// What the heap may grow by from the warm-up to the end: the 144 problem reports captured in
// between (stack traces and all) and the validator's stack store for their dependencies. One
// thread's held-lock array alone is max_lock_depth * sizeof(held_lock), about 2 KB, so keeping
// anything per exited thread would exceed this many times over.
constexpr std::size_t allowed_heap_growth = 8u << 20;

// Bytes the program has allocated and not freed. Not RSS: a sanitizer's allocator keeps freed
// memory in quarantine, and glibc keeps freed arenas, so RSS grows without a leak.
std::size_t heap_in_use() {
#ifdef CHURN_TEST_SANITIZED_HEAP
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 info = mallinfo2();  // summed over every arena
  return info.uordblks + info.hblkhd;
#endif
}

// Starts `body` on a new thread with a 512 KB stack. glibc keeps up to 40 MB of exited threads'
// stacks for reuse: five of the default 8 MB ones, so with default stacks most of the threads
// would map and unmap their own, and the test's time would go to the kernel.
pthread_t start_thread(std::function<void()> body) {
  static pthread_attr_t* small_stack = [] {
    static pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 512 * 1024);
    return &attributes;
  }();
  auto run = [](void* owned) -> void* {
    std::unique_ptr<std::function<void()>> body(static_cast<std::function<void()>*>(owned));
    (*body)();
    return nullptr;
  };
  auto owned = std::make_unique<std::function<void()>>(std::move(body));
  pthread_t thread;
  // Not REQUIRE: an assertion per thread would cost more than the thread.
  if (pthread_create(&thread, small_stack, run, owned.get()) != 0) FAIL("pthread_create failed");
  owned.release();  // the thread frees it
  return thread;
}

// The locks every ordinary thread takes, always in this order.
struct shared_locks {
  lockdep::mutex first{"churn_first"};
  lockdep::mutex second{"churn_second"};
  lockdep::shared_mutex third{"churn_third"};
};

// Takes one of three ordered subsets of the shared locks; returns how many locks it took.
std::uint64_t ordinary_thread(shared_locks& locks, std::size_t index) {
  switch (index % 3) {
    case 0: {
      std::lock_guard first(locks.first);
      std::lock_guard second(locks.second);
      std::shared_lock third(locks.third);
      return 3;
    }
    case 1: {
      std::lock_guard first(locks.first);
      std::lock_guard third(locks.third);
      return 2;
    }
    default: {
      std::lock_guard second(locks.second);
      std::shared_lock third(locks.third);
      return 2;
    }
  }
}

bool is_problem_thread(std::size_t index) {
  return index % problem_block >= problem_block - threads_at_once;
}

std::string thread_name(std::size_t index) {
  return "churn-" + std::to_string(index);
}

// The problem threads alternate: an inversion of two new locks, or exiting holding a new
// pseudo-lock. Every problem has classes of its own, so each is a distinct report even in
// keep_going mode (which reports each distinct problem once). The names live as long as the
// test: classes point to their names.
class problem_plan {
 public:
  problem_plan() {
    for (std::size_t problem = 0; problem < problem_count; ++problem) {
      std::string suffix = "_" + std::to_string(problem);
      if (inverts(problem)) {
        names_.push_back("inverted_a" + suffix);
        names_.push_back("inverted_b" + suffix);
      } else {
        names_.push_back("held_at_exit" + suffix);
        names_.push_back("");
      }
    }
  }

  // Problem threads are numbered densely from 0.
  static std::size_t problem_of(std::size_t index) {
    return index / problem_block * threads_at_once + index % problem_block -
           (problem_block - threads_at_once);
  }
  static bool inverts(std::size_t problem) { return problem % 2 == 0; }
  const char* first_name(std::size_t problem) const { return names_[2 * problem].c_str(); }
  const char* second_name(std::size_t problem) const { return names_[2 * problem + 1].c_str(); }

  // What the reports should be, one line each: "thread kind locks", sorted.
  std::vector<std::string> expected_reports(std::size_t threads) const {
    std::vector<std::string> expected;
    for (std::size_t index = 0; index < threads; ++index) {
      if (!is_problem_thread(index)) continue;
      std::size_t problem = problem_of(index);
      if (inverts(problem)) {
        expected.push_back(thread_name(index) + " circular acquiring " + first_name(problem) +
                           " holding " + second_name(problem));
      } else {
        expected.push_back(thread_name(index) + " exit holding " + first_name(problem));
      }
    }
    std::sort(expected.begin(), expected.end());
    return expected;
  }

 private:
  std::vector<std::string> names_;
};

// Learns a --> b, then takes a while holding b: one circular report. Single-threaded, so nothing
// blocks. The locks, and with them their classes, are gone when it returns.
void invert_new_locks(const problem_plan& plan, std::size_t problem) {
  lockdep::mutex a{plan.first_name(problem)}, b{plan.second_name(problem)};
  {
    std::lock_guard first(a);
    std::lock_guard second(b);
  }
  std::lock_guard second(b);
  std::lock_guard first(a);
}

std::vector<std::string> describe(const std::vector<lockdep::report>& reports) {
  std::vector<std::string> described;
  for (const lockdep::report& issued : reports) {
    std::string line = issued.thread.comm + " ";
    if (issued.kind == lockdep::report_kind::circular_dependency) {
      line += "circular acquiring " + issued.acquiring.class_name + " holding " +
              issued.holding.class_name;
    } else if (issued.kind == lockdep::report_kind::locks_held_at_exit) {
      line += "exit holding";
      for (const lockdep::lock_description& held : issued.held_locks) line += " " + held.class_name;
    } else {
      line += lockdep::to_string(issued.kind);
    }
    described.push_back(line);
  }
  std::sort(described.begin(), described.end());
  return described;
}

// Runs threads [from, to), threads_at_once at a time; returns how many locks the ordinary
// ones took.
std::uint64_t run_threads(std::size_t from, std::size_t to, shared_locks& locks,
                          const problem_plan& plan) {
  std::uint64_t locks_taken = 0;
  std::vector<pthread_t> wave;
  std::vector<std::uint64_t> taken(threads_at_once);
  // Pseudo-locks held by problem threads as they exit: they outlive their thread (which never
  // releases them) and are destroyed, forgetting their classes, after it is joined.
  std::vector<std::unique_ptr<lockdep::lock_map>> left_held;
  for (std::size_t start = from; start < to; start += threads_at_once) {
    std::size_t end = std::min(to, start + threads_at_once);
    for (std::size_t index = start; index < end; ++index) {
      std::uint64_t* count = &taken[index - start];
      *count = 0;
      if (!is_problem_thread(index)) {
        wave.push_back(
            start_thread([&locks, index, count] { *count = ordinary_thread(locks, index); }));
        continue;
      }
      std::size_t problem = problem_plan::problem_of(index);
      lockdep::lock_map* held = nullptr;
      if (!problem_plan::inverts(problem)) {
        held = left_held.emplace_back(std::make_unique<lockdep::lock_map>(plan.first_name(problem)))
                   .get();
      }
      wave.push_back(start_thread([&plan, index, problem, held] {
        pthread_setname_np(pthread_self(), thread_name(index).c_str());
        if (held == nullptr) {
          invert_new_locks(plan, problem);
        } else {
          held->acquire();  // never released: the thread-exit check reports it
        }
      }));
    }
    // Joined only when its thread-local destructors, and so the validator's exit check, ran.
    for (pthread_t thread : wave) {
      if (pthread_join(thread, nullptr) != 0) FAIL("pthread_join failed");
    }
    wave.clear();
    left_held.clear();
    for (std::size_t i = 0; i < end - start; ++i) locks_taken += taken[i];
  }
  return locks_taken;
}

}  // namespace

TEST_CASE("thread churn: exited threads leave nothing behind and every problem is reported once",
          "[churn]") {
  lockdep::options keep_going = lockdep::current_options();
  keep_going.keep_going = true;
  lockdep::testing::report_capture capture(keep_going);
  shared_locks locks;
  const problem_plan plan;

  run_threads(0, warm_up_threads, locks, plan);
  REQUIRE(describe(capture.reports()) == plan.expected_reports(warm_up_threads));
  const std::size_t heap_after_warm_up = heap_in_use();
  const lockdep::validator_stats warm = lockdep::snapshot().stats;

  std::uint64_t locks_taken = run_threads(warm_up_threads, total_threads, locks, plan);
  const std::size_t heap_at_end = heap_in_use();
  const lockdep::validator_stats end = lockdep::snapshot().stats;

  // Every problem reported, once, by the thread that caused it; nothing else reported.
  CHECK(describe(capture.reports()) == plan.expected_reports(total_threads));
  CHECK(lockdep::validation_enabled());

  // The ordinary threads' chains were all learnt during the warm-up, so each of their
  // acquisitions since is a chain-cache hit, counted by its thread and kept when the thread
  // exited: not lost, and not counted twice by a thread that took over an exited one's
  // thread-local storage.
  CHECK(end.chain_lookup_hits - warm.chain_lookup_hits == locks_taken);

  // The problem threads' classes went with their locks: the tables are as after the warm-up.
  CHECK(end.lock_classes == warm.lock_classes);
  CHECK(end.direct_dependencies == warm.direct_dependencies);
  CHECK(end.dependency_chains == warm.dependency_chains);

  INFO("heap in use after " << warm_up_threads << " threads: " << heap_after_warm_up
                            << " bytes, after " << total_threads << ": " << heap_at_end);
  CHECK(heap_at_end < heap_after_warm_up + allowed_heap_growth);
}

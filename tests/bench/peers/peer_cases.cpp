// The lock patterns of lock_bench.cpp, timed by a plain steady_clock loop with a fixed iteration
// count, so that one source runs unchanged under ThreadSanitizer, Helgrind and lockdep-run
// (Google Benchmark's auto-scaling would run for minutes under Valgrind).
//
//   peer_cases <case> <iterations> <repetitions>
//
// prints `<case> <ns per lock+unlock pair>` on stdout: the best of <repetitions> runs, each of
// <iterations> (pairs of a nested pair, or sweeps of the window). Cases:
//   nested_pair        lock A, lock B, unlock B, unlock A on one thread, chain already validated
//   disjoint_pairs     the same on two threads, each on its own pair; wall time over the pairs
//                      of both threads
//   window             1000 mutexes locked 8 deep in a sliding window, order already learnt
//   window_first_pass  one sweep over a fresh set of 1000 mutexes (about 7,000 new
//                      dependencies); every repetition on a new set, <iterations> is ignored
//   inversion          A -> B, then B -> A on one thread: no deadlock happens, but every
//                      detector should report one (prints nothing on stdout)
//
// The lock type is chosen when compiling: std::mutex by default, lockdep::mutex with
// -DPEER_MUTEX_LOCKDEP, absl::Mutex with deadlock detection in report mode with -DPEER_MUTEX_ABSL.
#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#if defined(PEER_MUTEX_LOCKDEP)
#include "lockdep/mutex.hpp"
#elif defined(PEER_MUTEX_ABSL)
#include "absl/synchronization/mutex.h"
#endif

namespace {

#if defined(PEER_MUTEX_LOCKDEP)
// A default-constructed lockdep::mutex has a class of its own, so 1000 of them are 1000 classes.
using peer_mutex = lockdep::mutex;
#elif defined(PEER_MUTEX_ABSL)
// absl::Mutex spelled as a Lockable. Neither copyable nor movable, like the mutex it wraps.
class peer_mutex {
 public:
  void lock() { real_.Lock(); }
  void unlock() { real_.Unlock(); }

 private:
  absl::Mutex real_;
};
#else
using peer_mutex = std::mutex;
#endif

using clock_type = std::chrono::steady_clock;

template <class Mutex>
void lock_nested_pair(Mutex& outer, Mutex& inner) {
  outer.lock();
  inner.lock();
  inner.unlock();
  outer.unlock();
}

// Runs `repetition` (which returns the time it measured) and keeps the fastest, per pair.
template <class Repetition>
double best_ns_per_pair(int repetitions, std::int64_t pairs, Repetition repetition) {
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repetitions; ++r) {
    const std::chrono::duration<double, std::nano> elapsed = repetition();
    best = std::min(best, elapsed.count() / static_cast<double>(pairs));
  }
  return best;
}

template <class Body>
clock_type::duration timed(Body body) {
  const auto start = clock_type::now();
  body();
  return clock_type::now() - start;
}

template <class Mutex>
double nested_pair(std::int64_t iterations, int repetitions) {
  Mutex outer;
  Mutex inner;
  lock_nested_pair(outer, inner);  // validates the chain: the loop measures the steady state
  return best_ns_per_pair(repetitions, 2 * iterations, [&] {
    return timed([&] {
      for (std::int64_t i = 0; i < iterations; ++i) lock_nested_pair(outer, inner);
    });
  });
}

// Holds both threads until the clock has started. A mutex and a condition variable rather than
// std::barrier: Helgrind understands pthread waits, not futexes on atomics. Neither copyable
// nor movable.
class start_gate {
 public:
  explicit start_gate(int threads) : waiting_for_(threads) {}

  void arrive_and_wait() {
    std::unique_lock lock(mutex_);
    if (--waiting_for_ == 0) all_arrived_.notify_one();
    opened_.wait(lock, [&] { return open_; });
  }
  void wait_for_all() {
    std::unique_lock lock(mutex_);
    all_arrived_.wait(lock, [&] { return waiting_for_ == 0; });
  }
  // Notifies with the mutex held: Helgrind calls a signal without it "dubious".
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_arrived_;
  std::condition_variable opened_;
  int waiting_for_;
  bool open_ = false;
};

template <class Mutex>
struct alignas(64) padded {
  Mutex lock;  // one per cache line: the two threads must not share one by accident
};

template <class Mutex>
double disjoint_pairs(std::int64_t iterations, int repetitions) {
  constexpr int threads = 2;
  std::array<padded<Mutex>, 2 * threads> locks;
  return best_ns_per_pair(repetitions, threads * 2 * iterations, [&] {
    start_gate gate(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Mutex& outer = locks[2 * t].lock;
        Mutex& inner = locks[2 * t + 1].lock;
        lock_nested_pair(outer, inner);  // validated before the clock starts
        gate.arrive_and_wait();
        for (std::int64_t i = 0; i < iterations; ++i) lock_nested_pair(outer, inner);
      });
    }
    gate.wait_for_all();
    return timed([&] {
      gate.open();
      for (std::thread& worker : workers) worker.join();
    });
  });
}

constexpr int window_locks = 1000;
constexpr int window_depth = 8;
constexpr std::int64_t pairs_per_sweep = (window_locks - window_depth + 1) * window_depth;

template <class Mutex>
using window_set = std::array<Mutex, window_locks>;

template <class Mutex>
void slide_window(window_set<Mutex>& locks) {
  for (int start = 0; start + window_depth <= window_locks; ++start) {
    for (int i = start; i < start + window_depth; ++i) locks[i].lock();
    for (int i = start + window_depth; i-- > start;) locks[i].unlock();
  }
}

template <class Mutex>
double window(std::int64_t sweeps, int repetitions) {
  auto locks = std::make_unique<window_set<Mutex>>();
  slide_window(*locks);  // learn the order once: the loop below is the steady state
  return best_ns_per_pair(repetitions, sweeps * pairs_per_sweep, [&] {
    return timed([&] {
      for (std::int64_t s = 0; s < sweeps; ++s) slide_window(*locks);
    });
  });
}

template <class Mutex>
double window_first_pass(int repetitions) {
  // Every set stays alive to the end: lockdep-run cannot see a std::mutex die, so a new set at
  // a freed set's address would inherit its classes and order and not be a first pass.
  std::vector<std::unique_ptr<window_set<Mutex>>> sets;
  return best_ns_per_pair(repetitions, pairs_per_sweep, [&] {
    window_set<Mutex>& locks = *sets.emplace_back(std::make_unique<window_set<Mutex>>());
    return timed([&] { slide_window(locks); });
  });
}

template <class Mutex>
void inversion() {
  Mutex a;
  Mutex b;
  lock_nested_pair(a, b);
  lock_nested_pair(b, a);
}

int usage() {
  std::fprintf(stderr,
               "usage: peer_cases nested_pair|disjoint_pairs|window|window_first_pass|inversion "
               "<iterations> <repetitions>\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return usage();
  const std::string_view name = argv[1];
  const std::int64_t iterations = std::strtoll(argv[2], nullptr, 10);
  const int repetitions = std::atoi(argv[3]);
  if (iterations <= 0 || repetitions <= 0) return usage();
#if defined(PEER_MUTEX_ABSL)
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kReport);
#endif

  double ns_per_pair = 0;
  if (name == "nested_pair") {
    ns_per_pair = nested_pair<peer_mutex>(iterations, repetitions);
  } else if (name == "disjoint_pairs") {
    ns_per_pair = disjoint_pairs<peer_mutex>(iterations, repetitions);
  } else if (name == "window") {
    ns_per_pair = window<peer_mutex>(iterations, repetitions);
  } else if (name == "window_first_pass") {
    ns_per_pair = window_first_pass<peer_mutex>(repetitions);
  } else if (name == "inversion") {
    inversion<peer_mutex>();
    return 0;
  } else {
    return usage();
  }
  std::printf("%s %.3f\n", argv[1], ns_per_pair);
  return 0;
}

// The hang watchdog (hang_timeout): a thread blocked on an instrumented lock past the timeout
// is reported once per wait as the kernel's hung-task splat, with every waiting thread's held
// locks (the last of them the lock it waits for) under `Showing all locks held in the system:`;
// waits shorter than the timeout and uncontended locks are not.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"

using lockdep::report_kind;
using lockdep::testing::report_capture;
using namespace std::chrono_literals;

namespace {

lockdep::options with_hang_timeout(double seconds) {
  lockdep::options configured = lockdep::current_options();
  configured.hang_timeout = seconds;
  return configured;
}

std::vector<std::string> class_names(const std::vector<lockdep::lock_description>& locks) {
  std::vector<std::string> names;
  for (const lockdep::lock_description& lock : locks) names.push_back(lock.class_name);
  return names;
}

const lockdep::thread_held_locks* listed(const lockdep::report& hung, const std::string& comm) {
  for (const lockdep::thread_held_locks& thread : hung.all_held_locks) {
    if (thread.thread.comm == comm) return &thread;
  }
  return nullptr;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Spins until `flag` is set (the test's own handshakes use atomics, not validated locks).
void wait_for(const std::atomic<bool>& flag) {
  while (!flag.load()) std::this_thread::sleep_for(1ms);
}

}  // namespace

TEST_CASE("a thread blocked past the timeout is reported once, with what it waits for", "[hang]") {
  report_capture capture(with_hang_timeout(0.2));
  lockdep::mutex held{"hang_held"};
  std::atomic<bool> holding{false}, release{false};
  std::thread holder([&] {
    pthread_setname_np(pthread_self(), "hang_holder");
    std::lock_guard guard(held);
    holding = true;
    wait_for(release);
  });
  wait_for(holding);
  std::thread waiter([&] {
    pthread_setname_np(pthread_self(), "hang_waiter");
    std::lock_guard guard(held);
  });
  REQUIRE(capture.wait_for(1, 5s));
  std::this_thread::sleep_for(300ms);  // more passes of the watchdog: still one report
  release = true;
  holder.join();
  waiter.join();

  REQUIRE(capture.count() == 1);
  lockdep::report hung = capture.only();
  CHECK(hung.kind == report_kind::hung_task);
  CHECK(hung.thread.comm == "hang_waiter");
  CHECK(hung.blocked_seconds >= 0.2);
  CHECK(hung.acquiring.class_name == "hang_held");
  CHECK(class_names(hung.held_locks) == std::vector<std::string>{"hang_held"});
  CHECK_FALSE(hung.backtrace.empty());
  const lockdep::thread_held_locks* waiter_listed = listed(hung, "hang_waiter");
  REQUIRE(waiter_listed != nullptr);
  CHECK(class_names(waiter_listed->locks) == std::vector<std::string>{"hang_held"});
  CHECK(waiter_listed->waiting);
  CHECK(waiter_listed->held_count == 1);
  // The holder is not waiting on a lock: how many it holds, not which (they change as they
  // would be read), as the kernel lists a running task.
  const lockdep::thread_held_locks* holder_listed = listed(hung, "hang_holder");
  REQUIRE(holder_listed != nullptr);
  CHECK_FALSE(holder_listed->waiting);
  CHECK(holder_listed->held_count == 1);
  CHECK(holder_listed->locks.empty());
  CHECK(lockdep::validation_enabled());  // like the kernel's hung-task check, not a lockdep bug

  std::string text = hung.kernel_text();
  CHECK(contains(text, "INFO: task hang_waiter:" + std::to_string(hung.thread.tid) +
                           " blocked for more than 0 seconds.\n"));
  CHECK(contains(text,
                 "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this "
                 "message.\n"));
  CHECK(contains(text, "\nShowing all locks held in the system:\n"));
  CHECK(contains(text,
                 "\n1 lock held by hang_waiter/" + std::to_string(hung.thread.tid) + ":\n #0: "));
  CHECK(contains(text, " (hang_held){+.+.}, at: "));
  CHECK(contains(text, "\n=============================================\n"));
  CHECK(contains(
      text, "\n1 lock held by hang_holder/" + std::to_string(holder_listed->thread.tid) + ":\n"));
  std::string after_holder = text.substr(text.find("1 lock held by hang_holder/"));
  CHECK(after_holder.find("\n #0: ") != after_holder.find('\n'));  // no list for it
}

TEST_CASE("every waiting thread is listed with its held locks", "[hang]") {
  report_capture capture(with_hang_timeout(0.2));
  lockdep::mutex first{"hang_first"}, second{"hang_second"};
  std::atomic<bool> holding{false}, second_held{false}, release{false};
  std::thread holder([&] {
    pthread_setname_np(pthread_self(), "hang_owner");
    std::lock_guard guard(first);
    holding = true;
    wait_for(release);
  });
  wait_for(holding);
  std::thread middle([&] {  // holds second, waits for first
    pthread_setname_np(pthread_self(), "hang_middle");
    std::lock_guard outer(second);
    second_held = true;
    std::lock_guard inner(first);
  });
  wait_for(second_held);
  std::thread last([&] {  // waits for second
    pthread_setname_np(pthread_self(), "hang_last");
    std::lock_guard guard(second);
  });
  REQUIRE(capture.wait_for(2, 5s));
  release = true;
  holder.join();
  middle.join();
  last.join();

  std::vector<lockdep::report> reports = capture.reports();
  REQUIRE(reports.size() == 2);
  for (const lockdep::report& hung : reports) {
    const lockdep::thread_held_locks* middle_listed = listed(hung, "hang_middle");
    const lockdep::thread_held_locks* last_listed = listed(hung, "hang_last");
    // A wait begun after this report's pass is not in it.
    if (middle_listed != nullptr) {
      CHECK(class_names(middle_listed->locks) ==
            std::vector<std::string>{"hang_second", "hang_first"});
    }
    if (last_listed != nullptr) {
      CHECK(class_names(last_listed->locks) == std::vector<std::string>{"hang_second"});
    }
    CHECK(listed(hung, hung.thread.comm) != nullptr);
  }
  std::vector<std::string> hung_threads{reports[0].thread.comm, reports[1].thread.comm};
  std::sort(hung_threads.begin(), hung_threads.end());
  CHECK(hung_threads == std::vector<std::string>{"hang_last", "hang_middle"});
}

TEST_CASE("waits shorter than the timeout are not reported", "[hang]") {
  report_capture capture(with_hang_timeout(5));
  lockdep::mutex briefly{"hang_brief"};
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    std::lock_guard guard(briefly);
    holding = true;
    std::this_thread::sleep_for(100ms);
  });
  wait_for(holding);
  { std::lock_guard guard(briefly); }  // waits about 100 ms
  holder.join();
  std::this_thread::sleep_for(100ms);
  CHECK(capture.count() == 0);
}

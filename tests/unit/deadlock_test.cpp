// A real two-thread ABBA deadlock: the report must appear before the threads hang. The locks
// are a small custom Lockable built on the public annotation API, whose blocking acquisition
// can be abandoned, so the test can break the deadlock after checking the report.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"

using namespace std::chrono_literals;

namespace {

// Validated as a blocking lock before it waits, like lockdep::mutex, but its wait polls a
// cancel flag so that a deadlocked test can be unwound.
class abandonable_mutex {
 public:
  explicit abandonable_mutex(const char* name) : map_(name) {}

  bool lock(const std::atomic<bool>& cancelled) {
    lockdep::lock_acquire(map_, {}, LOCKDEP_RET_IP);
    // try_lock and a sleep rather than try_lock_for: ThreadSanitizer does not intercept the
    // pthread_mutex_clocklock that try_lock_for uses, and would call the unlock bogus.
    while (!real_.try_lock()) {
      std::this_thread::sleep_for(1ms);
      if (cancelled.load()) {
        lockdep::lock_release(map_, LOCKDEP_RET_IP);
        return false;
      }
    }
    return true;
  }
  void unlock() {
    lockdep::lock_release(map_, LOCKDEP_RET_IP);
    real_.unlock();
  }

 private:
  lockdep::lock_map map_;
  std::mutex real_;
};

}  // namespace

TEST_CASE("a real ABBA deadlock is reported before the threads block", "[deadlock]") {
  lockdep::testing::report_capture capture;
  abandonable_mutex a{"A"}, b{"B"};
  std::atomic<bool> cancelled{false};
  std::atomic<int> holding{0};
  std::atomic<bool> first_got_b{false}, second_got_a{false};

  auto take = [&](abandonable_mutex& first, abandonable_mutex& second, std::atomic<bool>& got) {
    first.lock(cancelled);
    holding++;
    while (holding.load() < 2) std::this_thread::yield();  // both hold their first lock
    got = second.lock(cancelled);
    if (got) second.unlock();
    first.unlock();
  };
  std::thread one([&] { take(a, b, first_got_b); });
  std::thread two([&] { take(b, a, second_got_a); });

  // One of the two is validated while the other already holds its lock: a report, then both
  // wait forever on each other.
  bool reported = capture.wait_for(1, 10s);
  std::this_thread::sleep_for(50ms);
  bool still_deadlocked = !first_got_b.load() && !second_got_a.load();
  cancelled = true;
  one.join();
  two.join();

  REQUIRE(reported);
  CHECK(still_deadlocked);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == lockdep::report_kind::circular_dependency);
}

// Each instrumented lock type: it locks for real, works with the standard lock helpers, and is
// validated with the kernel's rules for its kind (trylock, readers, recursion).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

using lockdep::report_kind;
using lockdep::testing::report_capture;
using lockdep_test::lock_unlock_2;
using lockdep_test::names;

TEMPLATE_TEST_CASE("exclusive lock types exclude and report ABBA", "[lock_types]", lockdep::mutex,
                   lockdep::timed_mutex, lockdep::recursive_mutex, lockdep::shared_mutex,
                   lockdep::rwlock, lockdep::spinlock) {
  report_capture capture;
  TestType a{"A"};
  TestType b{"B"};
  long counter = 0;
  auto work = [&] {
    for (int i = 0; i < 2000; ++i) {
      std::lock_guard outer(a);
      std::lock_guard inner(b);
      ++counter;
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  CHECK(counter == 4000);
  CHECK(capture.empty());

  // It really excludes: another thread cannot take it while it is held.
  CHECK(a.try_lock());
  bool other_got_it = true;
  std::thread([&] {
    other_got_it = a.try_lock();
    if (other_got_it) a.unlock();
  }).join();
  CHECK_FALSE(other_got_it);
  a.unlock();

  lock_unlock_2(b, a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::circular_dependency);
  CHECK(capture.only().cycle() == names({"A", "B"}));
}

TEST_CASE("trylock records no dependency into the trylocked lock", "[lock_types][trylock]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"};
  a.lock();
  REQUIRE(b.try_lock());  // no A --> B
  b.unlock();
  a.unlock();
  lock_unlock_2(b, a);  // B --> A is fine: there is no A --> B
  CHECK(capture.empty());
}

TEST_CASE("locks taken after a trylock depend on it", "[lock_types][trylock]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"}, c{"C"};
  REQUIRE(a.try_lock());
  c.lock();  // A --> C recorded from a trylocked holder
  c.unlock();
  a.unlock();
  lock_unlock_2(c, a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"A", "C"}));
  (void)b;
}

TEST_CASE("a held trylock does not stop dependencies from the locks below it",
          "[lock_types][trylock]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"}, c{"C"};
  a.lock();
  REQUIRE(b.try_lock());
  c.lock();  // B --> C and, through the trylock, A --> C
  c.unlock();
  b.unlock();
  a.unlock();
  lock_unlock_2(c, a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"A", "C"}));
}

TEST_CASE("a relocked recursive_mutex is not reported", "[lock_types]") {
  report_capture capture;
  lockdep::recursive_mutex r{"R"};
  r.lock();
  r.lock();
  CHECK(r.try_lock());
  r.unlock();
  r.unlock();
  CHECK(lockdep::lock_is_held(r.lockdep_map()));
  r.unlock();
  CHECK(lockdep::lock_held_state(r.lockdep_map()) == lockdep::held_state::not_held);
  CHECK(capture.empty());
}

TEST_CASE("rwsem readers are not recursive", "[lock_types][read]") {
  report_capture capture;
  lockdep::shared_mutex sem{"sem"};
  sem.lock_shared();
  lockdep::might_lock(sem.lockdep_map(), lockdep::lock_access::shared);
  sem.unlock_shared();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::recursive_locking);
}

TEST_CASE("rwlock readers may recurse", "[lock_types][read]") {
  report_capture capture;
  lockdep::rwlock rw{"rw"};
  rw.lock_shared();
  rw.lock_shared();
  rw.unlock_shared();
  rw.unlock_shared();
  CHECK(capture.empty());
}

TEST_CASE("rwlock write after read of the same lock is reported", "[lock_types][read]") {
  report_capture capture;
  lockdep::rwlock rw{"rw"};
  rw.lock_shared();
  lockdep::might_lock(rw.lockdep_map());
  rw.unlock_shared();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::recursive_locking);
}

TEST_CASE("read/write inversions: recursive readers on both sides are no deadlock",
          "[lock_types][read]") {
  report_capture capture;
  lockdep::rwlock x{"X"};
  lockdep::mutex y{"Y"};
  // read X, lock Y; then lock Y, read X: readers of X do not wait for each other.
  x.lock_shared();
  y.lock();
  y.unlock();
  x.unlock_shared();
  y.lock();
  x.lock_shared();
  x.unlock_shared();
  y.unlock();
  CHECK(capture.empty());
}

TEST_CASE("read/write inversions: a writer on one side deadlocks", "[lock_types][read]") {
  report_capture capture;
  lockdep::rwlock x{"X"};
  lockdep::mutex y{"Y"};
  x.lock_shared();
  y.lock();
  y.unlock();
  x.unlock_shared();
  y.lock();
  x.lock();
  x.unlock();
  y.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"X", "Y"}));
}

TEST_CASE("read/write inversions: rwsem readers are not recursive", "[lock_types][read]") {
  report_capture capture;
  lockdep::shared_mutex x{"X"};
  lockdep::mutex y{"Y"};
  x.lock_shared();
  y.lock();
  y.unlock();
  x.unlock_shared();
  y.lock();
  x.lock_shared();
  x.unlock_shared();
  y.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"X", "Y"}));
  CHECK(capture.only().kernel_text().find("  rlock(X);") != std::string::npos);
}

TEST_CASE("chains with the same classes but other read types are validated apart",
          "[lock_types][read]") {
  // The kernel's rlock_chaincache_ABBA1: read X then Y, then Y then read X (fine, cached),
  // then Y then write X must still be checked.
  report_capture capture;
  lockdep::rwlock x{"X"};
  lockdep::mutex y{"Y"};
  x.lock_shared();
  y.lock();
  y.unlock();
  x.unlock_shared();
  y.lock();
  x.lock_shared();
  x.unlock_shared();
  x.lock();
  x.unlock();
  y.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::circular_dependency);
}

TEST_CASE("a pseudo-lock map validates like a lock", "[lock_types][pseudo]") {
  report_capture capture;
  static lockdep::lock_map reclaim{"fs_reclaim"};
  lockdep::mutex m{"m"};
  {
    std::lock_guard held(m);
    std::lock_guard entering(reclaim);  // m --> fs_reclaim
  }
  {
    std::lock_guard entering(reclaim);
    m.lock();  // fs_reclaim --> m
    m.unlock();
  }
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"m", "fs_reclaim"}));
}

TEST_CASE("condition_variable_any waits release and re-acquire the lock", "[lock_types]") {
  report_capture capture;
  lockdep::mutex m{"m"};
  std::condition_variable_any ready;
  bool flag = false;
  std::thread notifier([&] {
    std::lock_guard guard(m);
    flag = true;
    ready.notify_one();
  });
  {
    std::unique_lock guard(m);
    ready.wait(guard, [&] { return flag; });
    CHECK(lockdep::lock_is_held(m.lockdep_map()));
  }
  notifier.join();
  CHECK(capture.empty());
}

TEST_CASE("std::shared_lock and std::scoped_lock work with the lock types", "[lock_types]") {
  report_capture capture;
  lockdep::shared_mutex s{"s"};
  lockdep::mutex a{"a"}, b{"b"};
  {
    std::shared_lock reader(s);
    CHECK(lockdep::lock_held_state(s.lockdep_map(), lockdep::lock_access::shared) ==
          lockdep::held_state::held);
    CHECK(lockdep::lock_held_state(s.lockdep_map(), lockdep::lock_access::exclusive) ==
          lockdep::held_state::not_held);
  }
  {
    std::scoped_lock both(a, b);
    CHECK(lockdep::lock_is_held(a.lockdep_map()));
    CHECK(lockdep::lock_is_held(b.lockdep_map()));
  }
  CHECK(capture.empty());
}

namespace {
// Constant-initialized: usable from other translation units' static initializers.
constinit lockdep::mutex global_mutex{"global_mutex"};
constinit lockdep::spinlock global_spinlock{"global_spinlock"};
}  // namespace

TEST_CASE("global mutexes and spinlocks are constant-initialized", "[lock_types]") {
  report_capture capture;
  lock_unlock_2(global_mutex, global_spinlock);
  lock_unlock_2(global_spinlock, global_mutex);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"global_mutex", "global_spinlock"}));
}

TEST_CASE("an unchecked held lock is tracked but neither validated nor a stop for dependencies",
          "[lock_types][check]") {
  report_capture capture;
  lockdep::mutex a{"A"}, c{"C"};
  lockdep::lock_map unchecked{"unchecked"};
  lockdep::acquire_request track_only;
  track_only.check = false;
  a.lock();
  lockdep::lock_acquire(unchecked, track_only, LOCKDEP_RET_IP);
  CHECK(lockdep::lock_is_held(unchecked));
  c.lock();  // A --> C is recorded through the unchecked lock
  c.unlock();
  lockdep::lock_release(unchecked, LOCKDEP_RET_IP);
  a.unlock();
  lock_unlock_2(c, a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"A", "C"}));
}

TEST_CASE("a mutex locked while the thread was ignored is really unlocked after it",
          "[lock_types][misuse]") {
  report_capture capture;
  lockdep::mutex a{"A"};
  lockdep::timed_mutex t{"T"};
  {
    lockdep::validation_off_scope off;  // the validator records neither acquisition
    a.lock();
    t.lock();
  }
  // The validator never saw them taken: a bad unlock each, but the caller does own them, so
  // the real unlocks happen (glibc's owner record decides what the validator cannot).
  t.unlock();
  a.unlock();
  CHECK(capture.count() == 1);  // the first report turns validation off
  bool other_got_them = false;
  std::thread([&] {
    other_got_them = a.try_lock() && t.try_lock();
    t.unlock();
    a.unlock();
  }).join();
  CHECK(other_got_them);
}

TEST_CASE("after the validator turned itself off, a bad unlock still never reaches the lock",
          "[lock_types][misuse]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"};
  lockdep::shared_mutex sem{"sem"};
  lock_unlock_2(a, b);
  lock_unlock_2(b, a);  // the first report turns validation off
  REQUIRE_FALSE(lockdep::validation_enabled());
  a.unlock();  // not held: no report any more, and the real mutex is not touched
  sem.unlock();
  CHECK(a.try_lock());
  bool other_got_it = true;
  std::thread([&] {
    other_got_it = a.try_lock();
    a.unlock();  // another thread's unlock of a's lock: refused
  }).join();
  CHECK_FALSE(other_got_it);
  a.unlock();
  CHECK(sem.try_lock());
  sem.unlock();
  CHECK(capture.count() == 1);
}

// Every report kind, produced by real misuse through the public API, and the annotations.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <array>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

using lockdep::report_kind;
using lockdep::testing::report_capture;
using lockdep_test::lock_unlock_2;

TEST_CASE("destroying a held lock is reported as held lock freed", "[reports]") {
  report_capture capture;
  auto doomed = std::make_unique<lockdep::mutex>("doomed");
  doomed->lock();
  const void* address = doomed.get();
  doomed.reset();
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::held_lock_freed);
  CHECK(found.holding.class_name == "doomed");
  CHECK(found.freed_from <= found.holding.instance);
  CHECK(found.holding.instance < found.freed_to);
  // The whole object, as the kernel reports the freed range, not only its lock map.
  CHECK(found.freed_from == address);
  CHECK(static_cast<const char*>(found.freed_to) - static_cast<const char*>(found.freed_from) ==
        static_cast<std::ptrdiff_t>(sizeof(lockdep::mutex)));
  CHECK(found.kernel_text().find("with a lock still held there!") != std::string::npos);
  // The freed lock was dropped from the held stack: nothing else is reported.
  CHECK(lockdep::lock_held_state(lockdep::lock_map{"probe"}) != lockdep::held_state::held);
}

TEST_CASE("a freed lock held twice leaves no held entry behind, also with keep_going",
          "[reports]") {
  // Found by the lock-program fuzzer: a lock held twice (recursive reads) and then freed kept
  // its second entry, which later reports read from the freed memory (ASan: use after free).
  lockdep::options keep_going = lockdep::current_options();
  keep_going.keep_going = true;
  report_capture capture(keep_going);
  lockdep::mutex below{"below"}, above{"above"};
  below.lock();
  auto doomed = std::make_unique<lockdep::lock_map>("read_twice");
  doomed->acquire_read();
  doomed->acquire_read();
  above.lock();
  doomed.reset();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::held_lock_freed);
  // The locks around it are still held, in order, and release without another report.
  CHECK(lockdep::lock_held_state(above.lockdep_map()) == lockdep::held_state::held);
  CHECK(lockdep::lock_held_state(below.lockdep_map()) == lockdep::held_state::held);
  above.unlock();
  below.unlock();
  // A new lock (here at the freed one's address, often) is not taken for the freed one.
  auto reborn = std::make_unique<lockdep::lock_map>("reborn");
  reborn->acquire();
  reborn->release();
  CHECK(capture.count() == 1);
}

TEST_CASE("a freed lock held in several subclasses is dropped without taking it again",
          "[reports]") {
  // Found by the lock-program fuzzer: dropping the freed lock's entries one at a time took the
  // ones above the lowest again in between, which validated the reads over held_nested/2 and
  // reported a cycle with the learnt held_nested --> held_nested/2.
  lockdep::options keep_going = lockdep::current_options();
  keep_going.keep_going = true;
  report_capture capture(keep_going);
  auto doomed = std::make_unique<lockdep::lock_map>("held_nested");
  doomed->acquire();
  doomed->acquire(2);
  doomed->acquire_read();  // a read of a class held for write: recursive locking, reported
  doomed->acquire_read();
  doomed.reset();
  std::vector<lockdep::report> reports = capture.reports();
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].kind == report_kind::recursive_locking);
  CHECK(reports[1].kind == report_kind::held_lock_freed);
  CHECK(lockdep::lock_held_state(lockdep::lock_map{"probe"}) != lockdep::held_state::held);
}

TEST_CASE("a thread exiting with locks held is reported", "[reports]") {
  report_capture capture;
  lockdep::mutex leaked{"leaked"};
  std::thread([&] {
    pthread_setname_np(pthread_self(), "leaker");
    leaked.lock();
  }).join();
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::locks_held_at_exit);
  CHECK(found.thread.comm == "leaker");
  REQUIRE(found.held_locks.size() == 1);
  CHECK(found.held_locks[0].class_name == "leaked");
  CHECK(found.kernel_text().find("WARNING: leaker/" + std::to_string(found.thread.tid) +
                                 " still has locks held!") != std::string::npos);
}

TEST_CASE("locks taken by a thread's thread_local destructors are checked at its end",
          "[reports]") {
  report_capture capture;
  lockdep::mutex leaked{"leaked_by_tls_destructor"};
  std::thread([&] {
    pthread_setname_np(pthread_self(), "tls_leaker");
    // Constructed before the thread's first lock, so destroyed after any thread_local the
    // validator creates for the thread: the check must still come after it.
    struct locks_when_destroyed {
      lockdep::mutex* lock = nullptr;
      ~locks_when_destroyed() {
        if (lock != nullptr) lock->lock();
      }
    };
    thread_local locks_when_destroyed at_thread_end;
    at_thread_end.lock = &leaked;
    lockdep::mutex first{"first"};
    first.lock();
    first.unlock();
  }).join();
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::locks_held_at_exit);
  CHECK(found.thread.comm == "tls_leaker");
  REQUIRE(found.held_locks.size() == 1);
  CHECK(found.held_locks[0].class_name == "leaked_by_tls_destructor");
}

TEST_CASE("exceeding the held-lock depth gives one report and no crash", "[reports][capacity]") {
  lockdep::options shallow = lockdep::current_options();
  shallow.max_lock_depth = 4;
  report_capture capture(shallow);
  std::array<lockdep::mutex, 6> locks;
  for (auto& lock : locks) lock.lock();
  for (auto it = locks.rbegin(); it != locks.rend(); ++it) it->unlock();
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::lock_depth_overflow);
  CHECK(found.depth == 4);
  CHECK(found.limit_value == 4);
  CHECK(found.held_locks.size() == 4);
  CHECK(found.kernel_text().find("BUG: MAX_LOCK_DEPTH too low!") == 0);
  CHECK_FALSE(lockdep::validation_enabled());
}

TEST_CASE("the default depth is the kernel's 48", "[reports][capacity]") {
  report_capture capture;
  std::vector<std::unique_ptr<lockdep::mutex>> locks;
  for (int i = 0; i < 49; ++i) locks.push_back(std::make_unique<lockdep::mutex>());
  for (auto& lock : locks) lock->lock();
  for (auto it = locks.rbegin(); it != locks.rend(); ++it) (*it)->unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().depth == 48);
}

TEST_CASE("running out of classes names the limit and the option", "[reports][capacity]") {
  lockdep::options tiny = lockdep::current_options();
  tiny.max_classes = 3;
  report_capture capture(tiny);
  std::array<lockdep::mutex, 5> locks;
  for (auto& lock : locks) {
    lock.lock();
    lock.unlock();
  }
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::capacity_exhausted);
  CHECK(found.limit_name == "MAX_LOCKDEP_KEYS");
  CHECK(found.limit_option == "max_classes");
  std::string text = found.kernel_text();
  CHECK(text.find("BUG: MAX_LOCKDEP_KEYS too low!\nturning off the locking correctness "
                  "validator.\n") == 0);
  CHECK(text.find("max_classes") != std::string::npos);
}

TEST_CASE("running out of dependencies, chains or trace space is reported", "[reports][capacity]") {
  lockdep::options tiny = lockdep::current_options();
  std::string expected;
  SECTION("dependencies") {
    tiny.max_dependencies = 2;
    expected = "MAX_LOCKDEP_ENTRIES";
  }
  SECTION("chains") {
    tiny.max_chains = 3;
    expected = "MAX_LOCKDEP_CHAINS";
  }
  SECTION("chain hlocks") {
    tiny.max_chain_hlocks = 4;
    expected = "MAX_LOCKDEP_CHAIN_HLOCKS";
  }
  SECTION("stack entries") {
    tiny.max_stack_entries = 8;
    expected = "MAX_STACK_TRACE_ENTRIES";
  }
  report_capture capture(tiny);
  std::array<lockdep::mutex, 6> locks;
  for (std::size_t i = 0; i + 1 < locks.size(); ++i) lock_unlock_2(locks[i], locks[i + 1]);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::capacity_exhausted);
  CHECK(capture.only().limit_name == expected);
  CHECK_FALSE(lockdep::validation_enabled());
}

TEST_CASE("a subclass above 7 is reported", "[reports]") {
  report_capture capture;
  lockdep::mutex m{"m"};
  m.lock_nested(8);
  m.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::invalid_subclass);
  CHECK(capture.only().subclass == 8);
  CHECK(capture.only().kernel_text().find("BUG: looking up invalid subclass: 8") == 0);
}

TEST_CASE("assertions report without turning the validator off", "[reports][annotations]") {
  report_capture capture;
  lockdep::mutex m{"m"};
  LOCKDEP_ASSERT_HELD(m);
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::assertion_failed);
  CHECK(found.assertion == "lockdep_assert_held(m)");
  CHECK(found.assertion_site.function.find("report_kinds_test.cpp:") != std::string::npos);
  CHECK(lockdep::validation_enabled());
  {
    std::lock_guard held(m);
    LOCKDEP_ASSERT_HELD(m);
    LOCKDEP_ASSERT_NOT_HELD(m);
  }
  LOCKDEP_ASSERT_NOT_HELD(m);
  REQUIRE(capture.count() == 2);
  CHECK(capture.reports()[1].assertion == "lockdep_assert_not_held(m)");
}

TEST_CASE("might_lock records the dependency without locking", "[annotations]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"};
  {
    std::lock_guard held(a);
    lockdep::might_lock(b.lockdep_map());
    CHECK(b.try_lock());  // it was not really locked
    b.unlock();
  }
  lock_unlock_2(b, a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::circular_dependency);
}

TEST_CASE("lock_set_subclass changes a held lock's class", "[annotations]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"};
  a.lock();
  lockdep::lock_set_subclass(a.lockdep_map(), 1, nullptr);
  b.lock();  // A/1 --> B
  b.unlock();
  a.unlock();
  // Plain lock() of A now uses subclass 1, as in the kernel.
  lock_unlock_2(b, a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == lockdep_test::names({"A/1", "B"}));
}

TEST_CASE("lock_set_class moves a held lock to another key", "[annotations]") {
  report_capture capture;
  static lockdep::lock_class_key renamed{"renamed"};
  lockdep::mutex a{"A"}, b{"B"};
  a.lock();
  lockdep::lock_set_class(a.lockdep_map(), renamed, 0, nullptr);
  CHECK(lockdep::lock_is_held(a.lockdep_map()));
  b.lock();
  b.unlock();
  a.unlock();
  lock_unlock_2(b, a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == lockdep_test::names({"renamed", "B"}));
}

TEST_CASE("releasing out of order re-validates the locks above", "[annotations]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"}, c{"C"};
  a.lock();
  b.lock();
  c.lock();
  a.unlock();  // B, C stay held
  CHECK(lockdep::lock_is_held(b.lockdep_map()));
  CHECK(lockdep::lock_is_held(c.lockdep_map()));
  CHECK(lockdep::lock_held_state(a.lockdep_map()) == lockdep::held_state::not_held);
  c.unlock();
  b.unlock();
  CHECK(capture.empty());
}

TEST_CASE("validation_off_scope stops tracking on this thread", "[annotations]") {
  report_capture capture;
  lockdep::mutex a{"A"}, b{"B"};
  lock_unlock_2(a, b);
  {
    lockdep::validation_off_scope off;
    lock_unlock_2(b, a);
    CHECK(lockdep::lock_held_state(a.lockdep_map()) == lockdep::held_state::unknown);
  }
  CHECK(capture.empty());
  lock_unlock_2(b, a);
  CHECK(capture.count() == 1);
}

TEST_CASE("locks held across a testing reset may still be released silently", "[reports]") {
  lockdep::mutex outer{"outer"};
  outer.lock();
  report_capture capture;  // resets: the validator forgets that outer is held
  lockdep::mutex fresh{"fresh"};
  outer.unlock();  // taken before the reset: fine
  CHECK(capture.empty());
  fresh.unlock();  // never taken: a bad unlock, even right after a reset
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::bad_unlock_balance);
}

TEST_CASE("report_warning issues a WARN splat and leaves validation on", "[reports]") {
  report_capture capture;
  lockdep::report_warning("illegal size (0) or align (4) for percpu allocation", LOCKDEP_RET_IP);
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::warning);
  CHECK(found.assertion == "illegal size (0) or align (4) for percpu allocation");
  std::string text = found.kernel_text();
  CHECK(text.find("------------[ cut here ]------------\nWARNING: CPU: ") == 0);
  CHECK(text.find("report_kinds_test.cpp:") != std::string::npos);
  CHECK(lockdep::validation_enabled());
}

TEST_CASE("a held lock destroyed while the validator is off leaves nothing behind", "[reports]") {
  alignas(lockdep::mutex) unsigned char storage[sizeof(lockdep::mutex)];
  {
    report_capture first;
    auto* doomed = new (storage) lockdep::mutex("doomed_while_off");
    doomed->lock();  // recorded while the validator is on
    lockdep::mutex a{"off_a"}, b{"off_b"};
    lock_unlock_2(a, b);
    lock_unlock_2(b, a);  // the report turns the validator off
    REQUIRE_FALSE(lockdep::validation_enabled());
    doomed->~mutex();  // freed while held: nothing checks now, but the entry must go
  }
  report_capture second;  // a reset: the validator is on again
  // A new lock in the same memory was never taken: unlocking it is a bad unlock, not a lock
  // "held before the reset".
  auto* reborn = new (storage) lockdep::mutex("reborn");
  reborn->unlock();
  CHECK(second.count() == 1);
  reborn->~mutex();
}

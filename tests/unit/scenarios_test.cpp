// The classic lock-order scenarios of the kernel's locking selftests and liblockdep's tests:
// which programs must be reported, with which kind and which chain, and which must not.
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

using lockdep::report_kind;
using lockdep::testing::report_capture;
using lockdep_test::lock_unlock_2;
using lockdep_test::names;

namespace {

struct four_locks {
  lockdep::mutex a{"A"}, b{"B"}, c{"C"}, d{"D"};
};

}  // namespace

TEST_CASE("AA: relocking a held mutex is recursive locking", "[scenario]") {
  report_capture capture;
  lockdep::mutex a{"A"};
  // A second a.lock() would hang for real; might_lock validates the same acquisition.
  a.lock();
  lockdep::might_lock(a.lockdep_map());
  a.unlock();
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::recursive_locking);
  CHECK(found.acquiring.class_name == "A");
  CHECK(found.holding.class_name == "A");
  CHECK(found.kernel_text().find("WARNING: possible recursive locking detected") !=
        std::string::npos);
}

TEST_CASE("ABA: taking A again under B is recursive locking", "[scenario]") {
  report_capture capture;
  four_locks l;
  l.a.lock();
  l.b.lock();
  lockdep::might_lock(l.a.lockdep_map());
  l.b.unlock();
  l.a.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::recursive_locking);
  REQUIRE(capture.only().held_locks.size() == 2);
}

TEST_CASE("ABBA on one thread is a circular dependency", "[scenario]") {
  report_capture capture;
  four_locks l;
  lock_unlock_2(l.a, l.b);
  CHECK(capture.empty());
  lock_unlock_2(l.b, l.a);
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::circular_dependency);
  CHECK(found.acquiring.class_name == "A");
  CHECK(found.holding.class_name == "B");
  CHECK(found.cycle() == names({"A", "B"}));
  REQUIRE(found.chain.size() == 2);
  CHECK(found.chain[0].class_name == "B");
  CHECK(found.chain[1].class_name == "A");
  CHECK_FALSE(found.chain[0].trace.empty());
}

TEST_CASE("ABBA across two threads is found without a real deadlock", "[scenario]") {
  report_capture capture;
  four_locks l;
  std::thread first([&] { lock_unlock_2(l.a, l.b); });
  first.join();
  std::thread second([&] { lock_unlock_2(l.b, l.a); });
  second.join();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::circular_dependency);
  CHECK(capture.only().cycle() == names({"A", "B"}));
}

TEST_CASE("ABBCCA: a three-lock cycle", "[scenario]") {
  report_capture capture;
  four_locks l;
  lock_unlock_2(l.a, l.b);
  lock_unlock_2(l.b, l.c);
  CHECK(capture.empty());
  lock_unlock_2(l.c, l.a);
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.cycle() == names({"A", "B", "C"}));
  std::string text = found.kernel_text();
  CHECK(text.find("Chain exists of:\n  A --> B --> C\n") != std::string::npos);
}

TEST_CASE("ABBCCDDA: a four-lock cycle", "[scenario]") {
  report_capture capture;
  four_locks l;
  lock_unlock_2(l.a, l.b);
  lock_unlock_2(l.b, l.c);
  lock_unlock_2(l.c, l.d);
  CHECK(capture.empty());
  lock_unlock_2(l.d, l.a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"A", "B", "C", "D"}));
  CHECK(capture.only().chain.size() == 4);
}

TEST_CASE("ABCABC: the same order twice is not reported", "[scenario]") {
  report_capture capture;
  four_locks l;
  for (int round = 0; round < 2; ++round) {
    std::scoped_lock all(l.a, l.b, l.c);  // std::lock's retry order may vary; only tries
  }
  for (int round = 0; round < 2; ++round) {
    l.a.lock();
    l.b.lock();
    l.c.lock();
    l.c.unlock();
    l.b.unlock();
    l.a.unlock();
  }
  CHECK(capture.empty());
}

TEST_CASE("AB CA BC: the cycle is found on the third edge", "[scenario]") {
  report_capture capture;
  four_locks l;
  lock_unlock_2(l.a, l.b);
  lock_unlock_2(l.c, l.a);
  CHECK(capture.empty());
  lock_unlock_2(l.b, l.c);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"C", "A", "B"}));
}

TEST_CASE("ABCDBCDA: the cycle a->b->c->d->a", "[scenario]") {
  report_capture capture;
  four_locks l;
  lock_unlock_2(l.a, l.b);
  lock_unlock_2(l.c, l.d);
  lock_unlock_2(l.b, l.c);
  CHECK(capture.empty());
  lock_unlock_2(l.d, l.a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"A", "B", "C", "D"}));
}

TEST_CASE("ABCDBDDA: the cycle a->b->d->a, c irrelevant", "[scenario]") {
  report_capture capture;
  four_locks l;
  lock_unlock_2(l.a, l.b);
  lock_unlock_2(l.c, l.d);
  lock_unlock_2(l.b, l.d);
  CHECK(capture.empty());
  lock_unlock_2(l.d, l.a);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"A", "B", "D"}));
}

TEST_CASE("WW: write-locking an rwlock held for write is recursive", "[scenario]") {
  report_capture capture;
  lockdep::rwlock a{"a"};
  lockdep::rwlock b{"b"};
  a.lock();
  b.lock_shared();
  lockdep::might_lock(a.lockdep_map());
  b.unlock_shared();
  a.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::recursive_locking);
  CHECK(capture.only().acquiring.class_name == "a");
}

TEST_CASE("unlock imbalance: a second unlock is reported and skipped", "[scenario]") {
  report_capture capture;
  lockdep::mutex a{"A"};
  a.lock();
  a.unlock();
  a.unlock();
  REQUIRE(capture.count() == 1);
  lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::bad_unlock_balance);
  CHECK(found.acquiring.class_name == "A");
  CHECK(found.kernel_text().find("is trying to release lock (A) at:") != std::string::npos);
  // The real mutex was not unlocked twice: it still works.
  CHECK(a.try_lock());
}

TEST_CASE("keep_going reports each distinct problem once", "[scenario]") {
  lockdep::options keep_going = lockdep::current_options();
  keep_going.keep_going = true;
  report_capture capture(keep_going);
  four_locks l;
  lock_unlock_2(l.a, l.b);
  lock_unlock_2(l.b, l.a);
  lock_unlock_2(l.b, l.a);  // the same chain again: cached, not re-reported
  lock_unlock_2(l.c, l.d);
  lock_unlock_2(l.d, l.c);
  REQUIRE(capture.count() == 2);
  CHECK(capture.reports()[0].cycle() == names({"A", "B"}));
  CHECK(capture.reports()[1].cycle() == names({"C", "D"}));
  CHECK(lockdep::validation_enabled());
}

TEST_CASE("after the first report the validator turns itself off", "[scenario]") {
  report_capture capture;
  four_locks l;
  lock_unlock_2(l.a, l.b);
  lock_unlock_2(l.b, l.a);
  CHECK_FALSE(lockdep::validation_enabled());
  lock_unlock_2(l.c, l.d);
  lock_unlock_2(l.d, l.c);
  CHECK(capture.count() == 1);
  CHECK(lockdep::lock_held_state(l.a.lockdep_map()) == lockdep::held_state::unknown);
}

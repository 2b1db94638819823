// Test cases run by the ctest tests in CMakeLists.txt, each in its own process: some must pass
// and some must fail with the report's text in Catch2's output. The failures are meant: these
// cases are not in the unit test binary.
//
// This file includes lockdep/catch2.hpp too (before catch.hpp, as a non-main file must), for
// expected_reports: a second include must not register the listener twice.
#include <lockdep/catch2.hpp>

#include <pthread.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <lockdep/lockdep.hpp>

namespace {

template <class First, class Second>
void lock_in_order(First& first, Second& second) {
  std::lock_guard outer(first);
  std::lock_guard inner(second);
}

}  // namespace

TEST_CASE("consistent lock order passes", "[clean]") {
  lockdep::mutex a{"clean_a"}, b{"clean_b"};
  lock_in_order(a, b);
  lock_in_order(a, b);
  CHECK(lockdep::validation_enabled());
  CHECK(lockdep::report_count() == 0);
}

TEST_CASE("an ABBA inversion fails the test case", "[abba]") {
  lockdep::mutex a{"abba_a"}, b{"abba_b"};
  lock_in_order(a, b);
  lock_in_order(b, a);
  // The test's own assertions pass: the failure is the report's.
  CHECK(lockdep::report_count() == 1);
}

TEST_CASE("a report issued on another thread fails the test case", "[thread]") {
  lockdep::mutex a{"thread_a"}, b{"thread_b"};
  lock_in_order(a, b);
  std::thread worker([&] {
    pthread_setname_np(pthread_self(), "abba_worker");  // the report names its thread
    lock_in_order(b, a);
  });
  worker.join();
  CHECK(lockdep::report_count() == 1);
}

TEST_CASE("expected reports do not fail the test case", "[expected]") {
  lockdep::mutex a{"expected_a"}, b{"expected_b"};
  lockdep::catch2::expected_reports expected;
  lock_in_order(a, b);
  lock_in_order(b, a);
  REQUIRE(expected.count() == 1);
  CHECK(expected.reports()[0].kind == lockdep::report_kind::circular_dependency);
  CHECK(expected.reports()[0].cycle() == std::vector<std::string>{"expected_a", "expected_b"});
}

// Run together ("[order]"): the validator keeps what it learnt between test cases, and the
// failure goes to the test case that inverted the order, not the one that taught it.
lockdep::mutex order_a{"order_a"}, order_b{"order_b"};

TEST_CASE("a lock order learnt in one test case", "[order]") {
  lock_in_order(order_a, order_b);
  CHECK(lockdep::report_count() == 0);
}

TEST_CASE("is checked in a later one", "[order]") {
  lock_in_order(order_b, order_a);
  CHECK(lockdep::report_count() == 1);
}

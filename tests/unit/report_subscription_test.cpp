// report_subscription: every report reaches the callback while it lives and none after; the
// callback may use instrumented locks without being validated; subscribing resets nothing.
#include <catch2/catch.hpp>

#include <mutex>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

using lockdep::report_kind;
using lockdep::testing::report_capture;

TEST_CASE("a subscription receives each report while it lives", "[subscription]") {
  report_capture capture;  // a clean validator, reports not printed
  std::vector<lockdep::report> received;
  lockdep::mutex a{"sub_a"}, b{"sub_b"}, c{"sub_c"};
  {
    lockdep::report_subscription watch(
        [&](const lockdep::report& issued) { received.push_back(issued); });
    lockdep_test::lock_unlock_2(a, b);
    lockdep_test::lock_unlock_2(b, a);
  }
  REQUIRE(received.size() == 1);
  CHECK(received[0].kind == report_kind::circular_dependency);
  CHECK(received[0].id == capture.only().id);

  lockdep::testing::reset(lockdep::current_options());  // validate again after the report
  lockdep_test::lock_unlock_2(a, c);
  lockdep_test::lock_unlock_2(c, a);
  CHECK(received.size() == 1);  // issued after the subscription ended
}

TEST_CASE("a subscription does not forget the learnt order", "[subscription]") {
  report_capture capture;
  lockdep::mutex a{"kept_a"}, b{"kept_b"};
  lockdep_test::lock_unlock_2(a, b);  // learnt before anyone subscribes
  int reports = 0;
  lockdep::report_subscription watch([&](const lockdep::report&) { ++reports; });
  lockdep_test::lock_unlock_2(b, a);
  CHECK(reports == 1);
}

TEST_CASE("a subscription callback's own locking is not validated", "[subscription]") {
  report_capture capture;
  lockdep::mutex a{"cb_a"}, b{"cb_b"};
  lockdep::mutex used_in_callback{"cb_lock"};
  int reports = 0;
  lockdep::report_subscription watch([&](const lockdep::report&) {
    // Taken while the reporting thread holds `b`: validated, this would be a new dependency.
    std::lock_guard guard(used_in_callback);
    ++reports;
  });
  lockdep_test::lock_unlock_2(a, b);
  lockdep_test::lock_unlock_2(b, a);
  CHECK(reports == 1);
  CHECK(capture.count() == 1);
}

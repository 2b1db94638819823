// Receiving reports as they are issued, without resetting anything: for integrations (a test
// framework failing the current test, a service exporting reports) that watch a program
// whose validator has already learnt its lock order.
//
//   lockdep::report_subscription watch([](const lockdep::report& issued) { ... });
//
// The callback runs on the reporting thread after the validator has released its own graph
// lock and after the report has been printed (so a callback may end the process), once per
// report, never concurrently with another subscription's or its own callback (they are called
// under one internal lock, in subscription order). It must not create or destroy a
// subscription. Lock calls it makes are ignored by the validator. Reports are still
// printed to the log while subscriptions exist (testing::report_capture is what silences
// them). Suppressed reports (see suppressions) reach no subscription. Not copyable or movable.
#pragma once

#include <functional>
#include <memory>

#include "lockdep/report.hpp"

namespace lockdep {

class report_subscription {
 public:
  explicit report_subscription(std::function<void(const report&)> on_report);
  ~report_subscription();
  report_subscription(const report_subscription&) = delete;
  report_subscription& operator=(const report_subscription&) = delete;

 private:
  struct listener;
  std::unique_ptr<listener> listener_;
};

}  // namespace lockdep

// Test support: capture reports as structured objects, and reset what the validator learnt.
//
//   TEST_CASE("ABBA is reported") {
//     lockdep::testing::report_capture capture;      // resets the validator, starts capturing
//     lockdep::mutex a, b;
//     { std::scoped_lock l(a); std::lock_guard g(b); } ...
//     REQUIRE(capture.count() == 1);
//     CHECK(capture.only().kind == lockdep::report_kind::circular_dependency);
//   }
//
// A capture receives the reports of every thread. Captures should not overlap in time with
// locks still held from before them (reset forgets what threads hold). Not copyable or movable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "lockdep/options.hpp"
#include "lockdep/report.hpp"

namespace lockdep::testing {

// Forgets all classes, dependencies, chains and stack traces, re-enables validation after a
// report, and (with the second form) resizes the tables. Held locks recorded before the reset are
// dropped from every thread's stack.
void reset();
void reset(const options& configured);

class report_capture {
 public:
  enum class echo { quiet, to_log };
  // Resets the validator (with `configured`, or the current options) and starts capturing.
  explicit report_capture(echo mode = echo::quiet);
  explicit report_capture(const options& configured, echo mode = echo::quiet);
  // Stops capturing and resets the validator again, so later tests start clean.
  ~report_capture();
  report_capture(const report_capture&) = delete;
  report_capture& operator=(const report_capture&) = delete;

  std::vector<report> reports() const;
  std::size_t count() const;
  bool empty() const { return count() == 0; }
  // The single captured report; throws std::logic_error unless exactly one was captured.
  report only() const;
  // Waits until at least `n` reports arrived or the timeout passed; true if they did.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct listener;
  void start(const options& configured, echo mode);
  std::unique_ptr<listener> listener_;
};

}  // namespace lockdep::testing

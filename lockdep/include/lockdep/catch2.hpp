// Catch2 (v2) integration: a validator report issued while a test case runs fails that test
// case, with the report's kernel text as the failure message (the console reporter wraps it at
// 80 columns; -r junit and -r xml keep its lines whole).
//
// Switch it on with one include in the test binary, in the file that defines CATCH_CONFIG_MAIN
// (or CATCH_CONFIG_RUNNER), or in any test file before that file's own <catch2/catch.hpp>:
//
//   #define CATCH_CONFIG_MAIN
//   #include <catch2/catch.hpp>
//   #include <lockdep/catch2.hpp>
//
// (A listener needs Catch2's reporter interfaces, which catch.hpp declares only for the main
// file or under CATCH_CONFIG_EXTERNAL_INTERFACES; this header defines that macro, and stops
// with an #error when catch.hpp was already included without it.) Including it in more files
// is harmless: the listener is registered once.
//
// What counts: every report, from any thread, fails the test case that was running when it
// was issued. The failure is recorded on the test thread when a section of the test case ends
// (the test case's own section ends right after its body returns), so join the threads a test
// case starts before it returns. A report issued between test cases fails the next one, and
// one issued after the last test case is printed at the end of the run; both say so.
//
// The validator is never reset here: the lock order learnt in one test case is checked in the
// next. After its first report the validator turns itself off unless
// LOCKDEP_OPTIONS=keep_going=1; the first failure says so, since later test cases then pass
// without being validated. Reports still go to the validator's log too. Catch2's [!mayfail]
// and [!shouldfail] tags apply to these failures as to any other.
//
// Tests that provoke reports on purpose declare an expected_reports scope; reports issued
// while it lives are collected in it instead of failing the test case:
//
//   TEST_CASE("taking b then a is reported") {
//     lockdep::catch2::expected_reports expected;
//     take_a_then_b();
//     take_b_then_a();
//     REQUIRE(expected.count() == 1);
//     CHECK(expected.reports()[0].kind == lockdep::report_kind::circular_dependency);
//   }
#pragma once

#if defined(TWOBLUECUBES_SINGLE_INCLUDE_CATCH_HPP_INCLUDED) && \
    !defined(CATCH_CONFIG_EXTERNAL_INTERFACES)
#error "include <lockdep/catch2.hpp> before <catch2/catch.hpp>, or in the CATCH_CONFIG_MAIN file"
#endif
#ifndef CATCH_CONFIG_EXTERNAL_INTERFACES
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#endif
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "lockdep/report.hpp"
#include "lockdep/report_subscription.hpp"
#include "lockdep/validator.hpp"

namespace lockdep::catch2 {

class expected_reports;

namespace detail {

// A report waiting to become a failure on the test thread.
struct pending_report {
  report issued;
  std::string test_case;  // the test case running when it was issued; empty between test cases
};

// What the report callback (on any reporting thread) shares with the listener and the
// expected_reports scopes (on the test thread). All members are thread-safe; the lock is a leaf:
// nothing else is locked and no Catch2 call is made while it is held. Not copyable or movable.
class run_state {
 public:
  void receive(const report& issued);
  void test_case_started(const std::string& name);
  void test_case_ended();
  std::string running_test_case();
  std::vector<pending_report> take_pending();

  void expect(expected_reports& scope);
  void stop_expecting(const expected_reports& scope);
  std::vector<report> received_by(const expected_reports& scope);

 private:
  std::mutex lock_;
  std::string running_;
  std::vector<pending_report> pending_;
  std::vector<expected_reports*> expecting_;  // innermost scope last
};

inline run_state& state() {
  static run_state shared;
  return shared;
}

}  // namespace detail

// Reports issued while it lives, on any thread, are collected here instead of failing the
// running test case. Scopes nest: the innermost one receives. The validator still turns itself
// off after an expected report unless LOCKDEP_OPTIONS=keep_going=1. Not copyable or movable
// (it is registered by address).
class expected_reports {
 public:
  expected_reports() { detail::state().expect(*this); }
  ~expected_reports() { detail::state().stop_expecting(*this); }
  expected_reports(const expected_reports&) = delete;
  expected_reports& operator=(const expected_reports&) = delete;

  // Copies of the reports received so far, in the order they were issued.
  std::vector<report> reports() const { return detail::state().received_by(*this); }
  std::size_t count() const { return reports().size(); }

 private:
  friend class detail::run_state;
  std::vector<report> received_;  // guarded by run_state's lock
};

namespace detail {

inline void run_state::receive(const report& issued) {
  std::lock_guard guard(lock_);
  if (!expecting_.empty()) {
    expecting_.back()->received_.push_back(issued);
  } else {
    pending_.push_back({issued, running_});
  }
}

inline void run_state::test_case_started(const std::string& name) {
  std::lock_guard guard(lock_);
  running_ = name;
}

inline void run_state::test_case_ended() {
  std::lock_guard guard(lock_);
  running_.clear();
}

inline std::string run_state::running_test_case() {
  std::lock_guard guard(lock_);
  return running_;
}

inline std::vector<pending_report> run_state::take_pending() {
  std::lock_guard guard(lock_);
  return std::exchange(pending_, {});
}

inline void run_state::expect(expected_reports& scope) {
  std::lock_guard guard(lock_);
  expecting_.push_back(&scope);
}

inline void run_state::stop_expecting(const expected_reports& scope) {
  std::lock_guard guard(lock_);
  std::erase(expecting_, &scope);
}

inline std::vector<report> run_state::received_by(const expected_reports& scope) {
  std::lock_guard guard(lock_);
  return scope.received_;
}

// The report's kernel text, after a line saying when it was issued if that was not during the
// test case it now fails.
inline std::string failure_message(const pending_report& pending, const std::string& running) {
  std::string when = "during this test case";
  if (pending.test_case.empty()) {
    when = "between test cases, before this one started";
  } else if (pending.test_case != running) {
    when = "while test case \"" + pending.test_case + "\" ran, after its last section ended";
  }
  std::string message =
      "lockdep report (" + std::string(to_string(pending.issued.kind)) + ") issued " + when + ":";
  for (const std::string& line : pending.issued.kernel_lines()) {
    // Catch2 v2's console reporter drops the indentation of the line after an empty one.
    message += "\n" + (line.empty() ? std::string(" ") : line);
  }
  return message;
}

// Records a failed assertion in the running test case, as FAIL_CHECK would at `where`.
inline void record_failure(const Catch::SourceLineInfo& where, const std::string& message) {
  Catch::AssertionHandler handler("LOCKDEP_REPORT", where, Catch::StringRef(),
                                  Catch::ResultDisposition::ContinueOnFailure);
  handler.handleMessage(Catch::ResultWas::ExplicitFailure, message);
  // Not complete(): under --abort it throws to unwind the test body, and a section's end may
  // be past the body already. The failure is counted either way.
  handler.setCompleted();
}

// Subscribes to reports for the length of the test run and turns them into failures.
class listener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    state().test_case_started(info.name);
  }

  // Called on the test thread while the test case is still counting its assertions: for the
  // test case's own section, after its body returned (or threw) and before its totals are made.
  void sectionEnded(const Catch::SectionStats& stats) override {
    std::vector<pending_report> pending = state().take_pending();
    if (!pending.empty()) {
      const std::string running = state().running_test_case();
      for (const pending_report& each : pending) {
        std::string message = failure_message(each, running);
        if (!validation_enabled() && !told_validator_is_off_) {
          told_validator_is_off_ = true;
          message +=
              "\nlockdep: the validator is now off: later test cases are not validated "
              "(LOCKDEP_OPTIONS=keep_going=1 keeps it on)";
        }
        record_failure(stats.sectionInfo.lineInfo, message);
      }
    }
    TestEventListenerBase::sectionEnded(stats);
  }

  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    state().test_case_ended();
    TestEventListenerBase::testCaseEnded(stats);
  }

  // No test case is left to fail: print what arrived after the last one's last section.
  void testRunEnded(const Catch::TestRunStats& stats) override {
    for (const pending_report& each : state().take_pending()) {
      const std::string when = each.test_case.empty() ? "after the last test case ended"
                                                      : "while test case \"" + each.test_case +
                                                            "\" ran, after its last section ended";
      stream << "lockdep report (" << to_string(each.issued.kind) << ") issued " << when
             << "; no test case failed for it:\n"
             << each.issued.kernel_text() << std::flush;
    }
    TestEventListenerBase::testRunEnded(stats);
  }

 private:
  bool told_validator_is_off_ = false;
  report_subscription subscription_{[](const report& issued) { state().receive(issued); }};
};

// An inline variable rather than CATCH_REGISTER_LISTENER, which registers once per file that
// expands it: one registration however many files include this header.
inline const Catch::ListenerRegistrar<listener> listener_registration;

}  // namespace detail

}  // namespace lockdep::catch2

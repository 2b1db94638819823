// Report text reaches the "lockdep" spdlog logger, one record per line, each with a kernel-style
// timestamp, and user sinks receive it.
#include <catch2/catch.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <sstream>

#include "lockdep/lockdep.hpp"
#include "lockdep/output.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

TEST_CASE("reports are printed through the lockdep logger with timestamps", "[output]") {
  std::ostringstream seen;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(seen);
  sink->set_pattern("%v");
  auto logger = lockdep::report_logger();
  REQUIRE(logger == spdlog::get("lockdep"));
  logger->sinks().push_back(sink);

  {
    lockdep::testing::report_capture capture(lockdep::testing::report_capture::echo::to_log);
    lockdep::mutex a{"A"}, b{"B"};
    lockdep_test::lock_unlock_2(a, b);
    lockdep_test::lock_unlock_2(b, a);
    REQUIRE(capture.count() == 1);
  }
  logger->sinks().pop_back();

  std::string text = seen.str();
  std::regex stamped_title(
      R"(\[ *\d+\.\d{6}\] WARNING: possible circular locking dependency detected\n)");
  CHECK(std::regex_search(text, stamped_title));
  // Every line, empty ones included, carries its own stamp, as in dmesg.
  std::istringstream lines(text);
  std::string line;
  std::regex stamp(R"(^\[ *\d+\.\d{6}\] ?.*$)");
  int count = 0;
  while (std::getline(lines, line)) {
    CHECK(std::regex_match(line, stamp));
    ++count;
  }
  CHECK(count > 30);
}

TEST_CASE("a quiet capture keeps reports out of the log", "[output]") {
  std::ostringstream seen;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(seen);
  auto logger = lockdep::report_logger();
  logger->sinks().push_back(sink);
  {
    lockdep::testing::report_capture capture;
    lockdep::mutex a{"A"};
    a.unlock();
    REQUIRE(capture.count() == 1);
  }
  logger->sinks().pop_back();
  CHECK(seen.str().empty());
}

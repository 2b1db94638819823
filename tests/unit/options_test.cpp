// LOCKDEP_OPTIONS parsing: valid entries apply, malformed ones are reported with their offset
// and do not stop the rest.
#include <catch2/catch.hpp>

#include <csignal>

#include "lockdep/options.hpp"

TEST_CASE("options parse key=value pairs separated by colons", "[options]") {
  lockdep::options parsed;
  auto errors = lockdep::parse_options(
      "keep_going=1:max_lock_depth=64:max_classes=100:log_path=/tmp/x.log:stack_depth=8", parsed);
  CHECK(errors.empty());
  CHECK(parsed.keep_going);
  CHECK(parsed.max_lock_depth == 64);
  CHECK(parsed.max_classes == 100);
  CHECK(parsed.log_path == "/tmp/x.log");
  CHECK(parsed.stack_depth == 8);
  CHECK(parsed.max_chains == lockdep::options{}.max_chains);
}

TEST_CASE("malformed options are reported and skipped", "[options]") {
  lockdep::options parsed;
  auto errors = lockdep::parse_options(
      "max_classes=abc:bogus=1:keep_going=maybe:noequals::max_chains=0:abort_on_assert=1", parsed);
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].position == 0);
  CHECK(errors[0].message == "'max_classes' expects a positive integer");
  CHECK(errors[1].message == "'bogus' is not a known option");
  CHECK(errors[2].message == "'keep_going' expects 0 or 1");
  CHECK(errors[3].message == "'noequals' is not key=value");
  CHECK(errors[4].message == "'max_chains' expects a positive integer");
  CHECK(parsed.max_classes == lockdep::options{}.max_classes);
  CHECK(parsed.abort_on_assert);  // the valid entry after the bad ones still applies
}

TEST_CASE("source_locations switches decoded frames off", "[options]") {
  lockdep::options parsed;
  CHECK(parsed.source_locations);  // on unless asked
  CHECK(lockdep::parse_options("source_locations=0", parsed).empty());
  CHECK_FALSE(parsed.source_locations);
  CHECK(lockdep::parse_options("source_locations=1", parsed).empty());
  CHECK(parsed.source_locations);
  auto errors = lockdep::parse_options("source_locations=off", parsed);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "'source_locations' expects 0 or 1");
  CHECK(parsed.source_locations);
}

TEST_CASE("the lock depth is capped", "[options]") {
  lockdep::options parsed;
  auto errors = lockdep::parse_options("max_lock_depth=100000", parsed);
  REQUIRE(errors.size() == 1);
  CHECK(parsed.max_lock_depth == lockdep::options::lock_depth_ceiling);
}

TEST_CASE("empty option text changes nothing", "[options]") {
  lockdep::options parsed;
  CHECK(lockdep::parse_options("", parsed).empty());
  CHECK(lockdep::parse_options(":::", parsed).empty());
  CHECK(parsed.max_lock_depth == 48);
}

TEST_CASE("output paths and the dump signal parse", "[options]") {
  lockdep::options parsed;
  auto errors = lockdep::parse_options(
      "json_log_path=/tmp/r.jsonl:dump_path=stderr:graph_dot_path=/tmp/g%p.dot:"
      "graph_json_path=/tmp/g.json:dump_signal=SIGUSR2",
      parsed);
  CHECK(errors.empty());
  CHECK(parsed.json_log_path == "/tmp/r.jsonl");
  CHECK(parsed.dump_path == "stderr");
  CHECK(parsed.graph_dot_path == "/tmp/g%p.dot");
  CHECK(parsed.graph_json_path == "/tmp/g.json");
  CHECK(parsed.dump_signal == SIGUSR2);
  CHECK(lockdep::parse_options("dump_signal=USR1", parsed).empty());
  CHECK(parsed.dump_signal == SIGUSR1);
  CHECK(lockdep::parse_options("dump_signal=10", parsed).empty());
  CHECK(parsed.dump_signal == 10);
}

TEST_CASE("signals that cannot be caught or mean a fault are refused", "[options]") {
  for (const char* bad : {"dump_signal=SIGKILL", "dump_signal=9", "dump_signal=SIGSTOP",
                          "dump_signal=SIGSEGV", "dump_signal=0", "dump_signal=USR9",
                          "dump_signal=1000", "dump_signal=", "json_log_path="}) {
    lockdep::options parsed;
    auto errors = lockdep::parse_options(bad, parsed);
    INFO(bad);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].position == 0);
    CHECK(parsed.dump_signal == 0);
  }
}

TEST_CASE("the hang timeout takes seconds", "[options]") {
  lockdep::options parsed;
  CHECK(lockdep::parse_options("hang_timeout=2.5", parsed).empty());
  CHECK(parsed.hang_timeout == 2.5);
  CHECK(lockdep::parse_options("hang_timeout=0", parsed).empty());
  CHECK(parsed.hang_timeout == 0);
  for (const char* bad : {"hang_timeout=-1", "hang_timeout=soon",
                          "hang_timeout=", "hang_timeout=nan", "hang_timeout=1e9"}) {
    INFO(bad);
    CHECK(lockdep::parse_options(bad, parsed).size() == 1);
  }
}

TEST_CASE("relative paths are anchored to the start directory", "[options]") {
  lockdep::options configured;
  REQUIRE(lockdep::parse_options("dump_path=state.txt:json_log_path=logs/r%p.jsonl:"
                                 "graph_dot_path=/tmp/g.dot:log_path=stderr",
                                 configured)
              .empty());
  lockdep::anchor_paths(configured, "/home/user/project");
  CHECK(configured.dump_path == "/home/user/project/state.txt");
  CHECK(configured.json_log_path == "/home/user/project/logs/r%p.jsonl");
  CHECK(configured.graph_dot_path == "/tmp/g.dot");
  CHECK(configured.log_path == "stderr");
  CHECK(configured.suppressions.empty());
  CHECK(configured.source_root == "/home/user/project");

  lockdep::options rooted;
  REQUIRE(lockdep::parse_options("source_root=/src:dump_path=stdout", rooted).empty());
  lockdep::anchor_paths(rooted, "/");
  CHECK(rooted.source_root == "/src");
  CHECK(rooted.dump_path == "stdout");
}

// Machine-readable output: reports as JSON lines (report::json(), LOCKDEP_OPTIONS
// json_log_path) and the state dumps written where the options say (dump_path,
// graph_dot_path, graph_json_path).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "json_syntax.hpp"
#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"
#include "state_exports.hpp"

using lockdep::testing::report_capture;

namespace {

std::string temporary_path(const std::string& name) {
  return "/tmp/lockdep_exports_test_" + std::to_string(getpid()) + "_" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("each report is one JSON line in json_log_path", "[exports]") {
  std::string path = temporary_path("reports.jsonl");
  std::remove(path.c_str());
  lockdep::options configured = lockdep::current_options();
  configured.keep_going = true;
  configured.json_log_path = path;
  {
    report_capture capture(configured);
    lockdep::mutex a{"json_a"}, b{"json_b"}, c{"json_c"};
    lockdep_test::lock_unlock_2(a, b);
    lockdep_test::lock_unlock_2(b, a);
    lockdep_test::lock_unlock_2(a, c);
    lockdep_test::lock_unlock_2(c, a);
    a.unlock();  // bad unlock balance
    REQUIRE(capture.count() == 3);

    std::vector<std::string> lines = lines_of(read_file(path));
    REQUIRE(lines.size() == 3);
    std::vector<lockdep::report> reports = capture.reports();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      INFO(lines[i]);
      CHECK(lockdep_test::json_syntax::valid(lines[i]));
      CHECK(lines[i] == reports[i].json());
      CHECK(contains(lines[i], "\"id\":\"" + reports[i].id + "\""));
    }
    const std::string& first = lines[0];
    CHECK(first.rfind("{\"kind\":\"circular_dependency\"", 0) == 0);
    CHECK(contains(first, "\"cycle\":[\"json_a\",\"json_b\"]"));
    CHECK(contains(first, "\"chain\":[{\"class\":\"json_b\""));  // #1, the held class, first
    CHECK(contains(first, "\"holding\":{\"instance\":\"0x"));
    CHECK(contains(first, "\"held_locks\":[{"));
    CHECK(contains(first, "\"function\":\"lockdep::mutex::lock\""));  // a frame, symbolized
    CHECK(contains(first, "possible circular locking dependency detected"));
    CHECK(lines[2].rfind("{\"kind\":\"bad_unlock_balance\"", 0) == 0);
  }
  std::remove(path.c_str());
}

TEST_CASE("an unwritable json_log_path loses no report text and does not stop", "[exports]") {
  lockdep::options configured = lockdep::current_options();
  configured.json_log_path = "/nonexistent-directory/reports.jsonl";
  report_capture capture(configured);
  lockdep::mutex a{"nojson_a"}, b{"nojson_b"};
  lockdep_test::lock_unlock_2(a, b);
  lockdep_test::lock_unlock_2(b, a);
  CHECK(capture.count() == 1);
}

TEST_CASE("the dumps are written where the options say, %p as the process id", "[exports]") {
  lockdep::options configured = lockdep::current_options();
  configured.dump_path = temporary_path("dump_%p.txt");
  configured.graph_dot_path = temporary_path("graph.dot");
  configured.graph_json_path = temporary_path("graph.json");
  report_capture capture(configured);
  lockdep::mutex a{"dump_a"}, b{"dump_b"};
  lockdep_test::lock_unlock_2(a, b);
  lockdep_test::lock_unlock_2(b, a);
  lockdep::detail::write_state_exports(configured);

  std::string dump_file = temporary_path("dump_" + std::to_string(getpid()) + ".txt");
  std::string dump = read_file(dump_file);
  CHECK(dump.rfind("all lock classes:\n", 0) == 0);
  CHECK(contains(dump, "\nall lock chains:\n"));
  CHECK(contains(dump, " lock-classes:                            2 [max:"));
  std::string dot = read_file(configured.graph_dot_path);
  CHECK(dot.rfind("digraph lockdep {", 0) == 0);
  CHECK(contains(dot, "refused: closes a cycle"));
  std::string json = read_file(configured.graph_json_path);
  CHECK(lockdep_test::json_syntax::valid(json));
  for (const std::string& path :
       {dump_file, configured.graph_dot_path, configured.graph_json_path}) {
    std::remove(path.c_str());
  }
}

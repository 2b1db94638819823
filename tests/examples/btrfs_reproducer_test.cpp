// The btrfs/percpu reproducer, run as a program. Its report must match the kernel's report from
// the seed, section by section: tests/examples/seed_report.skeleton keeps that report
// normalized (see the file's header), and the reproducer's output is normalized the same way
// here. --fixed must be silent; --race must report before it hangs, then the watchdog ends it.
#include <catch2/catch.hpp>

#include "run_program.hpp"

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

using example_test::run_result;

// With the kernel's text (source_locations=0) unless `lockdep_options` says otherwise.
run_result run_reproducer(const std::string& arguments,
                          const std::string& lockdep_options = example_test::kernel_text_options) {
  return example_test::run_program(BTRFS_REPRODUCER, arguments, lockdep_options);
}

std::string squeeze(const std::string& line) {
  std::string trimmed = std::regex_replace(line, std::regex(R"(\s+)"), " ");
  trimmed = std::regex_replace(trimmed, std::regex(R"(^ | $)"), "");
  return trimmed;
}

// The skeleton's normalization (seed_report.skeleton, header), applied to a report. With
// `decoded_frames`, frames may also read as decode_stacktrace.sh prints a frame with its source
// line: `function (file:line) module`.
std::vector<std::string> normalize(const std::vector<std::string>& lines,
                                   bool decoded_frames = false) {
  std::vector<std::string> normalized;
  std::size_t title = 0;
  while (title < lines.size() &&
         lines[title] != "WARNING: possible circular locking dependency detected") {
    ++title;
  }
  REQUIRE(title < lines.size());
  const std::regex lock_line(R"(^(#\d+: )?[0-9a-f]{16} (\(.*?\)\{[.+?-]{4}\}), at: .*$)");
  const std::regex frame_line(R"(^(.*?)\+0x[0-9a-f]+/0x[0-9a-f]+( \[[^\]]+\])?$)");
  const std::regex decoded_frame_line(R"(^(.*?) \(.+:[1-9][0-9]*\)( \S+)?$)");
  const std::regex unnamed_frame(R"(^0x[0-9a-f]+( \[[^\]]+\])?$)");
  // Standard library frames folded into one line (text_options::std_frames) stand for frames.
  const std::regex folded_frames(R"(^\.\.\. \d+ C\+\+ standard library frames .*$)");
  for (std::size_t i = title - 1; i < lines.size(); ++i) {
    std::string line = squeeze(lines[i]);
    if (line.empty()) continue;
    std::smatch match;
    if (i == title + 1) {
      line = "IDENT";
    } else if (std::regex_match(line, match, lock_line)) {
      line = "LOCK " + match[1].str() + match[2].str();
    } else if (std::regex_match(line, match, frame_line) ||
               (decoded_frames && std::regex_match(line, match, decoded_frame_line))) {
      line = "FRAME " + std::regex_replace(match[1].str(), std::regex(R"(\.part\.\d+$)"), "");
    } else if (std::regex_match(line, unnamed_frame) || std::regex_match(line, folded_frames)) {
      line = "FRAME ?";
    }
    line = std::regex_replace(line, std::regex(R"((\w)/\d+( |:|$))"), "$1/PID$2");
    line = std::regex_replace(line, std::regex(R"(#\d+\))"), ")");
    normalized.push_back(line);
    if (line == "stack backtrace:") break;
  }
  return normalized;
}

std::vector<std::string> read_skeleton() {
  std::ifstream file(SEED_SKELETON);
  REQUIRE(file.good());
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

bool is_frame(const std::string& line) {
  return line.rfind("FRAME ", 0) == 0;
}

// Non-frame lines equal and in order; each block of the skeleton's frames found, in order,
// within the report's frames of the same entry. lockdep's own internals are not modelled.
void check_against_skeleton(const std::vector<std::string>& report) {
  const std::set<std::string> not_modelled = {"FRAME __lock_acquire", "FRAME lock_acquire"};
  std::vector<std::string> skeleton = read_skeleton();
  std::size_t at = 0;
  for (std::size_t s = 0; s < skeleton.size();) {
    if (!is_frame(skeleton[s])) {
      while (at < report.size() && is_frame(report[at])) ++at;
      INFO("skeleton line " << s << ": " << skeleton[s]);
      REQUIRE(at < report.size());
      CHECK(report[at] == skeleton[s]);
      ++at;
      ++s;
      continue;
    }
    std::size_t block_end = at;
    while (block_end < report.size() && is_frame(report[block_end])) ++block_end;
    for (; s < skeleton.size() && is_frame(skeleton[s]); ++s) {
      if (not_modelled.count(skeleton[s]) != 0) continue;
      while (at < block_end && report[at] != skeleton[s]) ++at;
      INFO("the seed's frame " << skeleton[s] << ", in order within its chain entry");
      REQUIRE(at < block_end);
      ++at;
    }
    at = block_end;
  }
}

}  // namespace

TEST_CASE("the 5.6 reproducer prints the seed's report", "[btrfs_reproducer]") {
  run_result run = run_reproducer("");
  CHECK(run.exit_status == 1);
  check_against_skeleton(normalize(run.lines));
}

TEST_CASE("btrfs frames carry the module name, as the kernel prints them", "[btrfs_reproducer]") {
  run_result run = run_reproducer("");
  const std::regex btrfs_frame(R"(^ {7}btrfs_evict_inode\+0x[0-9a-f]+/0x[0-9a-f]+ \[btrfs\]$)");
  const std::regex core_frame(R"(^ {7}evict\+0x[0-9a-f]+/0x[0-9a-f]+$)");
  bool btrfs_seen = false, core_seen = false;
  for (const std::string& line : run.lines) {
    btrfs_seen = btrfs_seen || std::regex_match(line, btrfs_frame);
    core_seen = core_seen || std::regex_match(line, core_frame);
  }
  CHECK(btrfs_seen);
  CHECK(core_seen);
}

TEST_CASE("with source lines, frames read as decode_stacktrace.sh decodes them",
          "[btrfs_reproducer]") {
  run_result run = run_reproducer("", "");  // LOCKDEP_OPTIONS unset: source_locations=1
  CHECK(run.exit_status == 1);
  check_against_skeleton(normalize(run.lines, true));
  const std::regex btrfs_frame(
      R"(^ {7}btrfs_evict_inode \(/.+/btrfs_percpu_deadlock/btrfs_inode\.cpp:[1-9][0-9]*\) btrfs$)");
  const std::regex core_frame(R"(^ {7}evict \(/.+/btrfs_percpu_deadlock/vfs\.cpp:[1-9][0-9]*\)$)");
  bool btrfs_seen = false, core_seen = false;
  for (const std::string& line : run.lines) {
    btrfs_seen = btrfs_seen || std::regex_match(line, btrfs_frame);
    core_seen = core_seen || std::regex_match(line, core_frame);
  }
  // Debug builds (no NDEBUG) compile the reproducer with -g; other builds may have no line tables.
#ifndef NDEBUG
  CHECK(btrfs_seen);
  CHECK(core_seen);
#endif
}

TEST_CASE("the 5.7 reproducer stays silent", "[btrfs_reproducer]") {
  run_result run = run_reproducer("--fixed");
  CHECK(run.exit_status == 0);
  for (const std::string& line : run.lines) CHECK(line.find("WARNING") == std::string::npos);
}

TEST_CASE("race mode deadlocks for real after the report and the watchdog ends it",
          "[btrfs_reproducer][race]") {
  run_result run = run_reproducer("--race");
  CHECK(run.exit_status == 2);
  std::size_t report = run.lines.size(), watchdog = run.lines.size();
  for (std::size_t i = 0; i < run.lines.size(); ++i) {
    if (run.lines[i] == "WARNING: possible circular locking dependency detected") report = i;
    if (run.lines[i].rfind("watchdog:", 0) == 0) watchdog = i;
  }
  REQUIRE(report < run.lines.size());
  REQUIRE(watchdog < run.lines.size());
  CHECK(report < watchdog);

  run_result fixed = run_reproducer("--race --fixed");
  CHECK(fixed.exit_status == 0);
  CHECK(fixed.lines.back() == "all paths completed");
}

TEST_CASE("the help option tells the story", "[btrfs_reproducer]") {
  run_result run = run_reproducer("--help");
  CHECK(run.exit_status == 0);
  REQUIRE(run.lines.size() > 5);
  CHECK(run.lines[0].rfind("usage: btrfs_percpu_deadlock", 0) == 0);
}

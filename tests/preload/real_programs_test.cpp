// Real multithreaded programs from the distribution under lockdep-run: xz and zstd compress and
// decompress a few megabytes with two worker threads. They must print no report and produce the
// same result as without lockdep. A tool that is not installed is skipped with a warning (the
// CI image installs xz-utils and zstd).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "run_under_lockdep.hpp"

namespace {

std::string tool_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream directories(path != nullptr ? path : "/usr/bin:/bin");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    std::string candidate = directory + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string scratch_file(const std::string& name) {
  mkdir(PRELOAD_SCRATCH_DIR, 0755);
  return std::string(PRELOAD_SCRATCH_DIR) + "/" + name;
}

// About 6 MB of text that compresses, but not to nothing: numbered records with random words.
std::string write_input(const std::string& name) {
  std::string path = scratch_file(name);
  std::ofstream out(path, std::ios::binary);
  std::mt19937 random(20200515);
  const char* words[] = {"btrfs",   "percpu", "reclaim", "mutex", "rwsem", "chunk", "inode",
                         "delayed", "node",   "commit",  "root",  "space", "info",  "groups"};
  for (int record = 0; out.tellp() < 6 * 1024 * 1024; ++record) {
    out << record << ':';
    for (int word = 0; word < 12; ++word) out << ' ' << words[random() % 14] << random() % 1000;
    out << '\n';
  }
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Runs `lockdep-run <command>` with stdout to `output`; returns the shell status and stderr.
// `command` may start with `env VAR=value`: lockdep-run runs env, which runs the tool.
std::pair<int, std::string> run_tool(const std::string& command, const std::string& output) {
  std::string errors = output + ".stderr";
  std::string line = "env -u LOCKDEP_OPTIONS " + std::string(LOCKDEP_RUN) + " " + command + " > " +
                     output + " 2> " + errors;
  int status = std::system(line.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(errors)};
}

void round_trip(const std::string& tool, const std::string& compress, const std::string& expand,
                const std::string& suffix) {
  std::string executable = tool_path(tool);
  if (executable.empty()) {
    WARN(tool << " is not installed: skipped (apt-get install " << tool << ")");
    return;
  }
  std::string input = write_input(tool + "_input");
  std::string packed = input + suffix;
  std::string unpacked = input + ".out";

  auto [packed_status, packed_errors] = run_tool(executable + " " + compress + " " + input, packed);
  INFO(tool << " compress stderr:\n" << packed_errors);
  CHECK(packed_status == 0);
  CHECK(packed_errors.find("WARNING:") == std::string::npos);
  CHECK(packed_errors.find("BUG:") == std::string::npos);

  auto [unpacked_status, unpacked_errors] =
      run_tool(executable + " " + expand + " " + packed, unpacked);
  INFO(tool << " decompress stderr:\n" << unpacked_errors);
  CHECK(unpacked_status == 0);
  CHECK(unpacked_errors.find("WARNING:") == std::string::npos);
  CHECK(unpacked_errors.find("BUG:") == std::string::npos);
  CHECK(read_file(unpacked) == read_file(input));

  // The same compression with room for two lock classes only: the table overflows, which proves
  // the tool's locks really went through the validator.
  auto [limited_status, limited_errors] = run_tool(
      "env LOCKDEP_OPTIONS=max_classes=2 " + executable + " " + compress + " " + input, packed);
  INFO(tool << " with max_classes=2, stderr:\n" << limited_errors);
  CHECK(limited_errors.find("BUG: MAX_LOCKDEP_KEYS too low!") != std::string::npos);
  CHECK(limited_status == 66);
}

}  // namespace

TEST_CASE("preload: xz -T2 compresses and decompresses unchanged, no report", "[preload][real]") {
  // Small blocks, so that the input is split across both worker threads both ways.
  round_trip("xz", "-T2 --block-size=262144 -c", "-T2 -d -c", ".xz");
}

TEST_CASE("preload: zstd -T2 compresses and decompresses unchanged, no report", "[preload][real]") {
  round_trip("zstd", "-T2 -B1048576 -q -c", "-d -q -c", ".zst");
}

// Runs a program under lockdep-run for a test, through the shell (popen): its exit status and
// its output lines (stdout and stderr together), each without the "[ seconds.micros] " stamp
// report lines carry. LOCKDEP_OPTIONS is set to exactly what the test asks (unset by default),
// whatever the environment of the test run holds.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace preload_test {

struct run_result {
  int exit_status = -1;  // the shell's $?: 124 when `timeout` ended the program
  std::vector<std::string> lines;
};

inline std::string program_path(const std::string& name) {
  return std::string(PRELOAD_PROGRAM_DIR) + "/" + name;
}

// Runs `lockdep-run <program> <arguments>`; with timeout_seconds, under `timeout`; with
// `environment` (`NAME=value ...`), with those variables set for lockdep-run and the program.
inline run_result run_under_lockdep(const std::string& program, const std::string& arguments = "",
                                    const std::string& options = "", int timeout_seconds = 0,
                                    const std::string& environment = "") {
  std::string command =
      options.empty() ? "env -u LOCKDEP_OPTIONS " : "env LOCKDEP_OPTIONS='" + options + "' ";
  if (!environment.empty()) command += environment + " ";
  if (timeout_seconds > 0) command += "timeout " + std::to_string(timeout_seconds) + " ";
  command += std::string(LOCKDEP_RUN) + " " + program + " " + arguments + " 2>&1";
  FILE* output = popen(command.c_str(), "r");
  if (output == nullptr) throw std::runtime_error("cannot run " + command);
  run_result result;
  const std::regex stamp(R"(^\[ *\d+\.\d{6}\] ?)");
  char buffer[8192];
  while (std::fgets(buffer, sizeof buffer, output) != nullptr) {
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    result.lines.push_back(std::regex_replace(line, stamp, ""));
  }
  int status = pclose(output);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Index of the first line matching `pattern` (a regex, whole line) at or after `from`;
// lines.size() if none.
inline std::size_t find_line(const std::vector<std::string>& lines, const std::string& pattern,
                             std::size_t from = 0) {
  const std::regex wanted(pattern);
  for (std::size_t i = from; i < lines.size(); ++i) {
    if (std::regex_match(lines[i], wanted)) return i;
  }
  return lines.size();
}

// Report titles: lines starting with "WARNING:" or "BUG:".
inline std::vector<std::string> report_titles(const std::vector<std::string>& lines) {
  std::vector<std::string> titles;
  for (const std::string& line : lines) {
    if (line.rfind("WARNING:", 0) == 0 || line.rfind("BUG:", 0) == 0) titles.push_back(line);
  }
  return titles;
}

}  // namespace preload_test

// Runs an example program for a test: its exit status and its output lines (stdout and
// stderr together), each without the "[ seconds.micros] " prefix report lines carry.
// LOCKDEP_OPTIONS is set to exactly what the test asks, whatever the environment of the test
// run holds: by default source_locations=0, because the tests compare reports with the
// kernel's text, whose frames are `function+0xoff/0xsize [module]` with no source line.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace example_test {

struct run_result {
  int exit_status = -1;
  std::vector<std::string> lines;
};

inline constexpr const char* kernel_text_options = "source_locations=0";

// `lockdep_options` empty: LOCKDEP_OPTIONS unset, the validator's defaults.
inline run_result run_program(const std::string& program, const std::string& arguments = "",
                              const std::string& lockdep_options = kernel_text_options) {
  run_result result;
  std::string command = lockdep_options.empty() ? "env -u LOCKDEP_OPTIONS "
                                                : "env LOCKDEP_OPTIONS='" + lockdep_options + "' ";
  command += program + " " + arguments + " 2>&1";
  FILE* output = popen(command.c_str(), "r");
  if (output == nullptr) throw std::runtime_error("cannot run " + command);
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

}  // namespace example_test

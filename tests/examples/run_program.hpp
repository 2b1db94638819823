// Runs an example program for a test: its exit status and its output lines (stdout and
// stderr together), each without the "[ seconds.micros] " prefix report lines carry.
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

inline run_result run_program(const std::string& program, const std::string& arguments = "") {
  run_result result;
  std::string command = program + " " + arguments + " 2>&1";
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

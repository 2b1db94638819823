// Where report text goes: the spdlog logger named "lockdep" (stderr by default, or the
// LOCKDEP_OPTIONS log_path), one log record per line, each prefixed with a kernel-style
// `[ seconds.micros]` timestamp since process start. Users may add sinks to the logger.
#pragma once

#include <cstdio>
#include <string>

#include "lockdep/options.hpp"
#include "lockdep/report.hpp"

namespace lockdep::detail {

// How the options in force show a report's text.
text_options text_options_of(const options& configured);
// Prints the report's kernel text, as `shown` says, one log record per line.
void print_report(const report& issued, const text_options& shown);
// Appends the report as one JSON line to `path` (LOCKDEP_OPTIONS json_log_path; `%p` is the
// process id), its kernel text as `shown` says. The file stays open, and is reopened when the
// path changes. output_lock held.
void write_json_report(const report& issued, const std::string& path, const text_options& shown);

// `path` with each `%p` replaced by the process id.
std::string with_process_id(const std::string& path);
// "stderr", "stdout", or the file at `path` (after with_process_id) opened with `mode`;
// nullptr, with a message on stderr naming `what` (the option), when it cannot be opened.
std::FILE* open_output(const std::string& path, const char* mode, const char* what);
// Closes what open_output returned, unless it is stderr or stdout.
void close_output(std::FILE* file);
// Seconds since the process started, for report timestamps.
double seconds_since_start();

}  // namespace lockdep::detail

// Where report text goes: the spdlog logger named "lockdep" (stderr by default, or the
// LOCKDEP_OPTIONS log_path), one log record per line, each prefixed with a kernel-style
// `[ seconds.micros]` timestamp since process start. Users may add sinks to the logger.
#pragma once

#include "lockdep/report.hpp"

namespace lockdep::detail {

void print_report(const report& issued);
// Seconds since the process started, for report timestamps.
double seconds_since_start();

}  // namespace lockdep::detail

// Where report text goes: the spdlog logger named "lockdep" (also registered in spdlog's
// registry, so spdlog::get("lockdep") finds it once it exists). Each report line is one record
// at warn level whose text starts with the kernel's "[%5lu.%06lu] " stamp (seconds since the
// process started); the logger's own sink prints just that text ("%v"). Add sinks to see
// reports elsewhere (give them the pattern "%v" for exact kernel lines):
//
//   lockdep::report_logger()->sinks().push_back(my_sink);
//
// The logger writes to stderr by default, or to LOCKDEP_OPTIONS log_path. Sinks must not use
// instrumented locks of the program being validated (calls made while reporting are ignored).
#pragma once

#include <memory>

namespace spdlog {
class logger;
}

namespace lockdep {

// The logger reports are printed through, created on first call.
std::shared_ptr<spdlog::logger> report_logger();

}  // namespace lockdep

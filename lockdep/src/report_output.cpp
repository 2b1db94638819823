#include "report_output.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "lockdep/options.hpp"
#include "lockdep/output.hpp"

namespace lockdep::detail {
namespace {

const auto process_start_steady = std::chrono::steady_clock::now();

// The kernel's printk prefix "[%5lu.%06lu] " for the current time. Part of the message text,
// not of a sink pattern, so every sink (including ones users add later) shows it.
std::string kernel_timestamp() {
  auto since_start = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - process_start_steady);
  long long micros = std::max<long long>(since_start.count(), 0);
  char text[32];
  std::snprintf(text, sizeof text, "[%5lld.%06lld] ", micros / 1000000, micros % 1000000);
  return text;
}

spdlog::sink_ptr make_sink(const std::string& path) {
  if (path == "stdout") return std::make_shared<spdlog::sinks::stdout_sink_mt>();
  if (path.empty() || path == "stderr") return std::make_shared<spdlog::sinks::stderr_sink_mt>();
  try {
    return std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  } catch (const spdlog::spdlog_ex& error) {
    std::fprintf(stderr, "lockdep: cannot open log_path %s (%s); using stderr\n", path.c_str(),
                 error.what());
    return std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
}

std::shared_ptr<spdlog::logger> make_logger() {
  auto logger = std::make_shared<spdlog::logger>("lockdep", make_sink(current_options().log_path));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  // Reports must be visible before a thread blocks in a real deadlock.
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace

double seconds_since_start() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - process_start_steady)
      .count();
}

void print_report(const report& issued) {
  spdlog::logger& logger = *report_logger();
  for (const std::string& line : issued.kernel_lines()) {
    logger.warn("{}{}", kernel_timestamp(), line);
  }
  logger.flush();
}

}  // namespace lockdep::detail

namespace lockdep {

std::shared_ptr<spdlog::logger> report_logger() {
  // Held forever: reports may be printed during static destruction.
  static auto* logger = new std::shared_ptr<spdlog::logger>([] {
    if (auto existing = spdlog::get("lockdep")) return existing;
    auto created = detail::make_logger();
    try {
      spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      // Registered concurrently by the user: ours still works, just unnamed in the registry.
    }
    return created;
  }());
  return *logger;
}

}  // namespace lockdep

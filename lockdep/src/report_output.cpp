#include "report_output.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "lockdep/options.hpp"

namespace lockdep::detail {
namespace {

const auto process_start_steady = std::chrono::steady_clock::now();
const auto process_start_system = std::chrono::system_clock::now();

// `%*` renders the kernel's printk timestamp "%5lu.%06lu" for the record's time.
class kernel_timestamp_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm&,
              spdlog::memory_buf_t& destination) override {
    auto since_start =
        std::chrono::duration_cast<std::chrono::microseconds>(message.time - process_start_system);
    long long micros = std::max<long long>(since_start.count(), 0);
    char text[32];
    int length =
        std::snprintf(text, sizeof text, "%5lld.%06lld", micros / 1000000, micros % 1000000);
    destination.append(text, text + length);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<kernel_timestamp_flag>();
  }
};

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
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<kernel_timestamp_flag>('*').set_pattern("[%*] %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::trace);
  // Reports must be visible before a thread blocks in a real deadlock.
  logger->flush_on(spdlog::level::trace);
  return logger;
}

spdlog::logger& report_logger() {
  // Held forever: reports may be printed during static destruction.
  static auto* logger = new std::shared_ptr<spdlog::logger>([] {
    if (auto existing = spdlog::get("lockdep")) return existing;
    auto created = make_logger();
    try {
      spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      // Registered concurrently by the user: ours still works, just unnamed in the registry.
    }
    return created;
  }());
  return **logger;
}

}  // namespace

double seconds_since_start() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - process_start_steady)
      .count();
}

void print_report(const report& issued) {
  spdlog::logger& logger = report_logger();
  for (const std::string& line : issued.kernel_lines()) logger.warn("{}", line);
  logger.flush();
}

}  // namespace lockdep::detail

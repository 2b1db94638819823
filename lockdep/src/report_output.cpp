#include "report_output.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

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

text_options text_options_of(const options& configured) {
  text_options shown;
  shown.source_locations = configured.source_locations;
  shown.absolute_paths = configured.absolute_paths;
  shown.source_root = configured.source_root;
  shown.std_frames = configured.std_frames;
  return shown;
}

void print_report(const report& issued, const text_options& shown) {
  spdlog::logger& logger = *report_logger();
  for (const std::string& line : issued.kernel_lines(shown)) {
    logger.warn("{}{}", kernel_timestamp(), line);
  }
  logger.flush();
}

std::string with_process_id(const std::string& path) {
  std::string expanded;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 1 < path.size() && path[i + 1] == 'p') {
      expanded += std::to_string(getpid());
      ++i;
    } else {
      expanded += path[i];
    }
  }
  return expanded;
}

std::FILE* open_output(const std::string& path, const char* mode, const char* what) {
  if (path == "stderr") return stderr;
  if (path == "stdout") return stdout;
  std::string expanded = with_process_id(path);
  std::FILE* file = std::fopen(expanded.c_str(), mode);
  if (file == nullptr) {
    std::fprintf(stderr, "lockdep: cannot open %s %s (%s)\n", what, expanded.c_str(),
                 std::strerror(errno));
  }
  return file;
}

void close_output(std::FILE* file) {
  if (file == stderr || file == stdout) {
    std::fflush(file);
    return;
  }
  if (file != nullptr) std::fclose(file);
}

void write_json_report(const report& issued, const std::string& path, const text_options& shown) {
  // Kept open between reports; the output lock serializes every use.
  static std::FILE* file = nullptr;
  static std::string opened_path;
  static bool failed = false;  // said once; not retried for the same path
  if (path != opened_path) {
    close_output(file);
    file = nullptr;
    opened_path = path;
    failed = false;
  }
  if (file == nullptr && !failed) {
    file = open_output(path, "a", "json_log_path");
    failed = file == nullptr;
  }
  if (file == nullptr) return;
  std::string line = issued.json(shown);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), file);
  std::fflush(file);  // visible before a real deadlock hangs the program
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

#include "report_marker.hpp"

#include <fcntl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include "launcher_protocol.hpp"
#include "lockdep/output.hpp"

namespace lockdep::preload {
namespace {

std::atomic<bool> marked{false};

// No sink mutex: the only state is the atomic flag, and the file is written with O_APPEND.
class report_marker_sink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit report_marker_sink(std::string path) : path_(std::move(path)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg&) override {
    if (marked.exchange(true, std::memory_order_relaxed)) return;
    int file = open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (file < 0) return;
    std::string line = std::to_string(getpid()) + "\n";
    (void)!write(file, line.data(), line.size());
    close(file);
  }
  void flush_() override {}

 private:
  std::string path_;
};

}  // namespace

void install_report_marker() {
  const char* path = std::getenv(report_file_variable);
  if (path == nullptr || path[0] == '\0') return;
  report_logger()->sinks().push_back(std::make_shared<report_marker_sink>(path));
}

void report_marker_after_fork_child() {
  marked.store(false, std::memory_order_relaxed);
}

}  // namespace lockdep::preload

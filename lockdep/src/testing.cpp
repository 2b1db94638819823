#include "lockdep/testing.hpp"

#include <algorithm>
#include <stdexcept>

#include "hang_watchdog.hpp"
#include "validator_core.hpp"

namespace lockdep::testing {

struct report_capture::listener final : detail::report_listener {
  void on_report(const report& issued) override {
    std::lock_guard guard(mutex);
    captured.push_back(issued);
    arrived.notify_all();
  }
  bool echo_to_log() const override { return echo; }

  bool echo = false;
  mutable std::mutex mutex;  // plain std::mutex: the validator's own locking is not validated
  mutable std::condition_variable arrived;
  std::vector<report> captured;
};

void reset() {
  reset(detail::core().config);
}

void reset(const options& configured) {
  detail::validator_core& shared = detail::core();
  {
    std::lock_guard guard(shared.graph_lock);
    shared.rebuild(configured);
    std::uint64_t generation =
        detail::validator_generation.fetch_add(1, std::memory_order_acq_rel) + 1;
    detail::fast_view.epoch.store(generation, std::memory_order_release);
  }
  detail::start_hang_watchdog_if_set();  // a capture may have set a timeout
}

report_capture::report_capture(echo mode) {
  start(detail::core().config, mode);
}
report_capture::report_capture(const options& configured, echo mode) {
  start(configured, mode);
}

void report_capture::start(const options& configured, echo mode) {
  reset(configured);
  listener_ = std::make_unique<listener>();
  listener_->echo = mode == echo::to_log;
  detail::add_report_listener(listener_.get());
}

report_capture::~report_capture() {
  detail::remove_report_listener(listener_.get());
  reset(current_options());  // a capture's own table sizes do not leak into later tests
}

std::vector<report> report_capture::reports() const {
  std::lock_guard guard(listener_->mutex);
  return listener_->captured;
}

std::size_t report_capture::count() const {
  std::lock_guard guard(listener_->mutex);
  return listener_->captured.size();
}

report report_capture::only() const {
  std::lock_guard guard(listener_->mutex);
  if (listener_->captured.size() != 1) {
    throw std::logic_error("expected exactly one lockdep report, got " +
                           std::to_string(listener_->captured.size()));
  }
  return listener_->captured.front();
}

bool report_capture::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock guard(listener_->mutex);
  return listener_->arrived.wait_for(guard, timeout,
                                     [&] { return listener_->captured.size() >= n; });
}

}  // namespace lockdep::testing

#include "lockdep/report_subscription.hpp"

#include <utility>

#include "validator_core.hpp"

namespace lockdep {

struct report_subscription::listener final : detail::report_listener {
  explicit listener(std::function<void(const report&)> callback)
      : on_report_callback(std::move(callback)) {}
  void on_report(const report& issued) override { on_report_callback(issued); }
  bool echo_to_log() const override { return true; }

  std::function<void(const report&)> on_report_callback;
};

report_subscription::report_subscription(std::function<void(const report&)> on_report)
    : listener_(std::make_unique<listener>(std::move(on_report))) {
  detail::add_report_listener(listener_.get());
}

report_subscription::~report_subscription() {
  detail::remove_report_listener(listener_.get());
}

}  // namespace lockdep

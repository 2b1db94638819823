#include "report_delivery.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lock_names.hpp"
#include "lockdep/output.hpp"
#include "report_output.hpp"
#include "symbolization.hpp"
#include "validator_core.hpp"

namespace lockdep::detail {
namespace {

// This thread's, allocated with its first report and freed once they are delivered: a pointer,
// because a thread_local with a destructor registers that destructor on first use through the C
// library, which allocates with the program's malloc, and this is reached from inside the
// program's pthread calls (some allocators make those while holding their own locks).
thread_local std::vector<pending_report>* undelivered = nullptr;

// Reports issued and not yet delivered, by every thread, and this thread's share of them.
std::atomic<int> reports_in_delivery{0};
thread_local int own_reports_in_delivery = 0;

// At exit, the reports other threads are still delivering are let finish: delivery runs after
// the graph lock is released (symbolizing, printing line by line, then calling the listeners),
// so a program that returns from main while another thread delivers (the hang watchdog, say)
// would otherwise lose the report, or its text's end, or its later listeners. Bounded, so
// that a listener that never returns cannot hold the exit forever. Not when the exiting thread
// is delivering one itself (a listener calling exit): it holds the lock the others wait for.
void finish_deliveries_at_exit() {
  if (own_reports_in_delivery > 0) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (reports_in_delivery.load(std::memory_order_acquire) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void count_undelivered_report() {
  // Registered with the first report, after the logger (and spdlog's registry) exists: exit
  // handlers and static destructors run in reverse order, so the wait comes before they go.
  static const bool waits_at_exit = [] {
    lockdep::report_logger();
    return std::atexit(finish_deliveries_at_exit) == 0;
  }();
  (void)waits_at_exit;
  reports_in_delivery.fetch_add(1, std::memory_order_relaxed);
  ++own_reports_in_delivery;
}

// Counts one report as delivered when it goes out of scope, however its delivery ended.
struct delivered_when_done {
  ~delivered_when_done() {
    --own_reports_in_delivery;
    reports_in_delivery.fetch_sub(1, std::memory_order_release);
  }
};

void symbolize_frames(stack_trace& frames) {
  for (stack_frame& frame : frames) {
    if (frame.address != 0) frame = symbolize(frame.address);
  }
}

void symbolize_frame(stack_frame& frame) {
  if (frame.address != 0) frame = symbolize(frame.address);
}

void symbolize_lock(lock_description& lock) {
  symbolize_frame(lock.acquired_at);
  symbolize_frames(lock.name_source.first_use);
}

// Fills in function names, offsets and modules for every address the report holds.
void symbolize_report(report& finished) {
  symbolize_lock(finished.acquiring);
  symbolize_lock(finished.holding);
  for (lock_description& held : finished.held_locks) symbolize_lock(held);
  for (dependency_step& step : finished.chain) {
    symbolize_frames(step.trace);
    symbolize_frames(step.name_source.first_use);
  }
  symbolize_frames(finished.backtrace);
  for (thread_held_locks& thread : finished.all_held_locks) {
    for (lock_description& held : thread.locks) symbolize_lock(held);
  }
}

void deliver(pending_report& pending) {
  validator_core& shared = core();
  report& finished = pending.finished;
  symbolize_report(finished);
  name_unnamed_locks(finished);
  finished.id = report_id(finished);  // with the names the report now shows
  if (pending.check_suppressions) {
    if (pending.rules->suppresses_by_order(finished) ||
        pending.rules->suppresses_by_function(finished)) {
      std::lock_guard guard(shared.graph_lock);
      --shared.reports_issued;
      ++shared.suppressed_reports;
      return;
    }
    if (pending.turn_off_if_kept) turn_validation_off();
  }
  // Written out before any listener sees it: a listener may end the process (a fail-fast test
  // harness calling exit or abort), and the report's text must not go with it. The listeners
  // lock is held throughout, so the listeners that chose the echo are the ones called.
  {
    std::lock_guard listening(shared.listeners_lock);
    bool echo = shared.listeners.empty() ||
                std::ranges::any_of(shared.listeners, &report_listener::echo_to_log);
    if (echo || !pending.json_log_path.empty()) {
      std::lock_guard guard(shared.output_lock);
      if (echo) print_report(finished, pending.shown);
      if (!pending.json_log_path.empty())
        write_json_report(finished, pending.json_log_path, pending.shown);
    }
    // By index: a listener that ends the process may remove itself (calling_listeners).
    struct calling_scope {
      calling_scope() { validator_core::calling_listeners = true; }
      ~calling_scope() { validator_core::calling_listeners = false; }
    } calling;
    for (std::size_t i = 0; i < shared.listeners.size(); ++i) {
      shared.listeners[i]->on_report(finished);
    }
  }
  if (finished.kind == report_kind::assertion_failed && pending.abort_on_assert) {
    std::abort();
  }
}

}  // namespace

std::string report_id(const report& finished) {
  // Class names, not addresses: the same problem gets the same id in every run.
  std::string id = to_string(finished.kind);
  auto add = [&id](const std::string& part) {
    if (!part.empty()) id += "|" + part;
  };
  switch (finished.kind) {
    case report_kind::circular_dependency:
      for (const std::string& name : finished.cycle()) add(name);
      break;
    case report_kind::capacity_exhausted:
    case report_kind::lock_depth_overflow:
      add(finished.limit_name);
      break;
    case report_kind::locks_held_at_exit:
      for (const lock_description& held : finished.held_locks) add(held.class_name);
      break;
    case report_kind::hung_task:
      add(finished.thread.comm);
      for (const lock_description& held : finished.held_locks) add(held.class_name);
      break;
    case report_kind::assertion_failed:
    case report_kind::warning:
      add(finished.assertion);
      add(finished.assertion_site.text());
      break;
    default:
      add(finished.acquiring.class_name);
      add(finished.holding.class_name);
      break;
  }
  return id;
}

void queue_for_delivery(pending_report&& pending) {
  if (undelivered == nullptr) undelivered = new std::vector<pending_report>;
  undelivered->push_back(std::move(pending));
  count_undelivered_report();
}

void deliver_issued_reports() {
  if (undelivered == nullptr) return;  // the common case: nothing was reported
  // Taken whole: a listener may issue reports of its own, which start a new list.
  std::unique_ptr<std::vector<pending_report>> ready(std::exchange(undelivered, nullptr));
  for (pending_report& pending : *ready) {
    delivered_when_done counted;
    deliver(pending);
  }
}

void forget_other_threads_deliveries() {
  reports_in_delivery.store(own_reports_in_delivery, std::memory_order_relaxed);
}

}  // namespace lockdep::detail

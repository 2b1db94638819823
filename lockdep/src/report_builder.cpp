#include "report_builder.hpp"

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
#include "thread_identity.hpp"
#include "validator_core.hpp"

namespace lockdep::detail {
namespace {

// A report issued under the graph lock, delivered by deliver_issued_reports() once it is released.
struct undelivered_report {
  report finished;
  // Suppressions need the report's final class names and symbolized frames, which exist only
  // once the graph lock is released: the report may still be suppressed then, and turns the
  // validator off only if not.
  bool check_suppressions = false;
  bool turn_off_if_kept = false;
  // What delivery needs of the configuration, copied under the graph lock: delivery runs
  // without it, while a testing reset may replace the configuration.
  std::shared_ptr<const suppressions> rules;
  std::string json_log_path;
  bool abort_on_assert = false;
};
// This thread's, allocated with its first report and freed once they are delivered: a pointer,
// because a thread_local with a destructor registers that destructor on first use through the C
// library, which allocates with the program's malloc, and this is reached from inside the
// program's pthread calls (some allocators make those while holding their own locks).
thread_local std::vector<undelivered_report>* undelivered = nullptr;

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

stack_trace raw_frames(std::span<const std::uintptr_t> addresses) {
  stack_trace frames;
  frames.reserve(addresses.size());
  for (std::uintptr_t address : addresses) {
    stack_frame frame;
    frame.address = address;
    frames.push_back(std::move(frame));
  }
  return frames;
}

}  // namespace

stack_frame raw_frame(const void* ip) {
  stack_frame frame;
  frame.address = reinterpret_cast<std::uintptr_t>(ip);
  return frame;
}

namespace {

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

void deliver(undelivered_report& pending) {
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
      if (echo) print_report(finished);
      if (!pending.json_log_path.empty()) write_json_report(finished, pending.json_log_path);
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

stack_trace current_stack(const void* ip) {
  std::uintptr_t frames[max_captured_frames];
  std::size_t count = current_raw_stack(
      ip, frames, std::min<std::size_t>(core().config.stack_depth, max_captured_frames));
  return raw_frames(std::span<const std::uintptr_t>(frames, count));
}

stack_trace stored_stack(std::uint32_t trace) {
  return raw_frames(core().stacks->frames(trace));
}

std::mutex& graph_lock() {
  return core().graph_lock;
}

void deliver_issued_reports() {
  if (undelivered == nullptr) return;  // the common case: nothing was reported
  // Taken whole: a listener may issue reports of its own, which start a new list.
  std::unique_ptr<std::vector<undelivered_report>> ready(std::exchange(undelivered, nullptr));
  for (undelivered_report& pending : *ready) {
    delivered_when_done counted;
    deliver(pending);
  }
}

void forget_other_threads_deliveries() {
  reports_in_delivery.store(own_reports_in_delivery, std::memory_order_relaxed);
}

lock_description describe(const lock_map& map, class_index lock_class, lock_access access,
                          const void* ip) {
  const class_registry& classes = *core().classes;
  lock_description described;
  described.instance = map.lock_address();
  if (lock_class != no_class && lock_class <= classes.capacity() && classes.in_use(lock_class)) {
    const auto& described_class = classes.at(lock_class);
    described.class_name = described_class.printable_name();
    described.name_source = name_source_of(described_class);
    described.usage = usage_string(described_class.usage.load(std::memory_order_relaxed));
  } else {
    described.class_name = map.name() != nullptr ? map.name() : "<unknown>";
    described.usage = usage_string(0);
  }
  described.acquired_at = raw_frame(ip);
  described.access = access;
  return described;
}

unnamed_lock name_source_of(const lock_class& named) {
  unnamed_lock source;
  source.address = named.unnamed_lock;
  source.first_use = stored_stack(named.first_use_trace);
  source.named_by_first_use = named.first_use_trace != 0 || named.first_use_pending;
  return source;
}

lock_description describe(const held_lock& held) {
  lock_description described =
      describe(*held.instance, held.lock_class, held.access, held.acquire_ip);
  described.trylock = held.trylock;
  return described;
}

report start_report(report_kind kind, const thread_lock_state& state, const void* ip) {
  report started;
  started.kind = kind;
  started.thread = current_thread_identity();
  started.cpu = current_cpu();
  started.timestamp = seconds_since_start();
  if (state.held != nullptr) {
    for (std::uint32_t i = 0; i < state.depth; ++i) {
      started.held_locks.push_back(describe(state.held[i]));
    }
  }
  started.backtrace = current_stack(ip);
  return started;
}

bool issue(report&& finished) {
  validator_core& shared = core();
  // For keep_going's repeats: the names of unnamed locks are their addresses still, which tell
  // the same classes apart as well.
  finished.id = report_id(finished);
  const suppressions& rules = *shared.suppression_rules;
  // Order rules match class names: final already, unless a class is named at delivery.
  const bool names_final = !has_unnamed_locks(finished);
  if (names_final && rules.suppresses_by_order(finished)) {
    ++shared.suppressed_reports;
    return false;
  }
  if (shared.config.keep_going && !shared.reported_ids.insert(finished.id).second) return false;
  ++shared.reports_issued;
  // Like the kernel's WARN, a failed assertion or a warning leaves the validator running; so
  // does a hung task, which the kernel's hung-task detector reports, not lockdep.
  bool is_warn = finished.kind == report_kind::assertion_failed ||
                 finished.kind == report_kind::warning || finished.kind == report_kind::hung_task;
  bool turns_off = !shared.config.keep_going && !is_warn;
  bool check_suppressions =
      (rules.has_function_rules() || (!names_final && rules.has_order_rules())) &&
      suppressions::applies_to(finished);
  if (turns_off && !check_suppressions) turn_validation_off();
  if (undelivered == nullptr) undelivered = new std::vector<undelivered_report>;
  undelivered->push_back({std::move(finished), check_suppressions, turns_off,
                          shared.suppression_rules, shared.config.json_log_path,
                          shared.config.abort_on_assert});
  count_undelivered_report();
  return true;
}

void issue_capacity_report(const thread_lock_state& state, const char* limit_name,
                           const char* option_name, std::size_t limit, const void* ip) {
  report full = start_report(report_kind::capacity_exhausted, state, ip);
  full.limit_name = limit_name;
  full.limit_option = option_name;
  full.limit_value = limit;
  issue(std::move(full));
  turn_validation_off();
}

}  // namespace lockdep::detail

#include "report_builder.hpp"

#include <cstdio>
#include <span>
#include <string>
#include <utility>

#include "lock_names.hpp"
#include "report_output.hpp"
#include "thread_identity.hpp"
#include "validator_core.hpp"

namespace lockdep::detail {
namespace {

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

std::string hex_address(const void* address) {
  char digits[2 + 2 * sizeof(void*) + 1];
  std::snprintf(digits, sizeof digits, "0x%llx",
                static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(address)));
  return digits;
}

stack_frame raw_frame(const void* ip) {
  stack_frame frame;
  frame.address = reinterpret_cast<std::uintptr_t>(ip);
  return frame;
}

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

lock_description describe(const lock_map& map, class_index lock_class, lock_access access,
                          const void* ip) {
  const class_registry& classes = *core().classes;
  lock_description described;
  if (lock_class != no_class && lock_class <= classes.capacity() && classes.in_use(lock_class)) {
    const auto& described_class = classes.at(lock_class);
    // The class knows its one lock's address: the map itself may be another thread's lock,
    // gone since (the hang watchdog describes other threads' held locks).
    described.instance =
        described_class.unnamed_lock != nullptr ? described_class.unnamed_lock : map.lock_address();
    described.class_name = described_class.printable_name();
    described.name_source = name_source_of(described_class);
    described.usage = usage_string(described_class.usage.load(std::memory_order_relaxed));
  } else {
    // A lock never acquired (released without being held, say) has no class yet.
    described.instance = map.lock_address();
    described.class_name = map.name() != nullptr ? map.name() : "<unknown>";
    if (const lock_origin* origin = map.origin()) {
      described.class_name = hex_address(origin->object);
      described.name_source = name_source_of(*origin);
    }
    described.usage = usage_string(0);
  }
  described.acquired_at = raw_frame(ip);
  described.access = access;
  return described;
}

unnamed_lock name_source_of(const lock_origin& origin) {
  unnamed_lock source;
  source.address = origin.object;
  source.named_by_first_use = true;
  if (origin.initialised_at != nullptr)
    source.first_use.push_back(raw_frame(origin.initialised_at));
  return source;
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
  queue_for_delivery({std::move(finished), check_suppressions, turns_off, shared.suppression_rules,
                      shared.config.json_log_path, shared.config.abort_on_assert,
                      text_options_of(shared.config)});
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

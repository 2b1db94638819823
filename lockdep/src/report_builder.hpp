// Turns the validator's internal state into structured reports, and issues them.
//
// All functions run with the graph lock held and the thread marked busy (so symbolization,
// logging and user sinks cannot re-enter the validator).
#pragma once

#include <cstdint>

#include "held_lock_stack.hpp"
#include "lockdep/report.hpp"

namespace lockdep::detail {

struct validator_core;

// A report with the common parts filled in: kind, thread, cpu, timestamp, the thread's held
// locks and the current stack (starting at the frame that called the lock function `ip`).
report start_report(report_kind kind, const thread_lock_state& state, const void* ip);

lock_description describe(const held_lock& held);
lock_description describe(const lock_map& map, class_index lock_class, lock_access access,
                          const void* ip);

// The current stack, innermost first, starting at the lock function called from `ip` (the
// frame before the caller's), so that validator internals never show.
stack_trace current_stack(const void* ip);
// The raw frames of the current stack, trimmed the same way; for storing edge traces.
std::size_t current_raw_stack(const void* ip, std::uintptr_t* out, std::size_t max_frames);
stack_trace stored_stack(std::uint32_t trace);

// Delivers the report to listeners and the log, and turns validation off unless keep_going.
// In keep_going mode a report whose id was issued before is dropped.
void issue(report&& finished);

// A report that a table is full: always turns validation off, like the kernel.
void issue_capacity_report(const thread_lock_state& state, const char* limit_name,
                           const char* option_name, std::size_t limit, const void* ip);

}  // namespace lockdep::detail

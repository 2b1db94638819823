// Turns the validator's internal state into structured reports, and issues them.
//
// Reports are built under the graph lock with raw code addresses, and symbolized, handed to
// listeners and printed only after the lock is released (see graph_section): symbolization
// takes the dynamic loader's lock, which a thread running dlopen() constructors holds while it
// may be waiting for ours. The thread stays marked busy throughout, so logging and user sinks
// cannot re-enter the validator.
#pragma once

#include <cstdint>

#include "held_lock_stack.hpp"
#include "lock_class.hpp"
#include "lockdep/report.hpp"

namespace lockdep::detail {

struct validator_core;

// The graph lock for a slow-path section of the calling thread. On leaving the section the lock
// is released first, then the reports issued inside it are delivered. Declare it after the
// thread's busy_scope. Not copyable or movable.
class graph_section {
 public:
  graph_section();
  ~graph_section();
  graph_section(const graph_section&) = delete;
  graph_section& operator=(const graph_section&) = delete;
};

// In a fork child: the reports other threads were delivering are gone with those threads, so
// exit must not wait for them.
void forget_other_threads_deliveries();

// A report with the common parts filled in: kind, thread, cpu, timestamp, the thread's held
// locks and the current stack (starting at the frame that called the lock function `ip`).
report start_report(report_kind kind, const thread_lock_state& state, const void* ip);

// A frame holding only `ip` (symbolized at delivery).
stack_frame raw_frame(const void* ip);
// Where a report names `named` from, if it stands for one unnamed lock (see unnamed_lock).
unnamed_lock name_source_of(const lock_class& named);

lock_description describe(const held_lock& held);
lock_description describe(const lock_map& map, class_index lock_class, lock_access access,
                          const void* ip);

// The current stack, innermost first, starting at the lock function called from `ip` (the
// frame before the caller's), so that validator internals never show. Frames hold addresses
// only until the report is delivered.
stack_trace current_stack(const void* ip);
stack_trace stored_stack(std::uint32_t trace);

// Counts the report and turns validation off unless keep_going (in keep_going mode a report
// whose id was issued before is dropped), then queues it for delivery when the enclosing
// graph_section ends. A report matched by an `order:` suppression is only counted as
// suppressed; one that suppressions may match only once it is symbolized (`function:` rules;
// `order:` rules when a class is named at delivery, see lock_names.hpp) is decided at delivery
// and turns validation off only if it is kept. False when the report was dropped here. Graph
// lock held.
bool issue(report&& finished);

// A report that a table is full: always turns validation off, like the kernel.
void issue_capacity_report(const thread_lock_state& state, const char* limit_name,
                           const char* option_name, std::size_t limit, const void* ip);

}  // namespace lockdep::detail

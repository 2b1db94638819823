// Turns the validator's internal state into structured reports and issues them: the first half
// of a report's way, under the graph lock.
//
// A report goes one way: captured under the graph lock as data with raw code addresses
// (issue() queues it), then, once the lock is released, delivered by deliver_issued_reports()
// (report_delivery.hpp): symbolized, its unnamed locks named, matched against the suppressions,
// rendered (kernel text, JSON) and handed to the listeners. Symbolization waits until the lock
// is released because it takes the dynamic loader's lock, which a thread running dlopen()
// constructors holds while it may be waiting for ours. The thread stays marked busy throughout,
// so logging and user sinks cannot re-enter the validator.
#pragma once

#include <cstdint>
#include <mutex>
#include <type_traits>

#include "held_lock_stack.hpp"
#include "lock_class.hpp"
#include "lockdep/report.hpp"
#include "report_delivery.hpp"

namespace lockdep::detail {

struct validator_core;

// The lock that guards the graph, the classes, the chains and the stack store.
std::mutex& graph_lock();

// Runs `locked`, a slow-path section of the calling thread, under the graph lock, then delivers
// the reports it issued. Returns what `locked` returns. Call it inside the thread's busy_scope.
template <class Locked>
auto in_graph_section(Locked&& locked) {
  auto run_locked = [&] {
    std::lock_guard guard(graph_lock());
    return locked();
  };
  // Reports issued before an exception (bad_alloc) are still delivered, the lock released.
  try {
    if constexpr (std::is_void_v<decltype(run_locked())>) {
      run_locked();
      deliver_issued_reports();
    } else {
      auto result = run_locked();
      deliver_issued_reports();
      return result;
    }
  } catch (...) {
    deliver_issued_reports();
    throw;
  }
}

// A report with the common parts filled in: kind, thread, cpu, timestamp, the thread's held
// locks and the current stack (starting at the frame that called the lock function `ip`).
report start_report(report_kind kind, const thread_lock_state& state, const void* ip);

// A frame holding only `ip` (symbolized at delivery).
stack_frame raw_frame(const void* ip);
// Where a report names `named` from, if it stands for one unnamed lock (see unnamed_lock).
unnamed_lock name_source_of(const lock_class& named);
// The same for a lock kept apart from its map that has no class yet.
unnamed_lock name_source_of(const lock_origin& origin);
// `0x` and the address in hex: the name of a lock kept apart until a report names it.
std::string hex_address(const void* address);

lock_description describe(const held_lock& held);
lock_description describe(const lock_map& map, class_index lock_class, lock_access access,
                          const void* ip);

// The current stack, innermost first, starting at the lock function called from `ip` (the
// frame before the caller's), so that validator internals never show. Frames hold addresses
// only until the report is delivered.
stack_trace current_stack(const void* ip);
stack_trace stored_stack(std::uint32_t trace);

// Counts the report and turns validation off unless keep_going (in keep_going mode a report
// whose id was issued before is dropped), then queues it for deliver_issued_reports() (which
// in_graph_section calls once the lock is released). A report matched by an `order:`
// suppression is only counted as suppressed; one that suppressions may match only once it is
// symbolized (`function:` rules; `order:` rules when a class is named at delivery, see
// lock_names.hpp) is decided at delivery and turns validation off only if it is kept. False
// when the report was dropped here. Graph lock held.
bool issue(report&& finished);

// A report that a table is full: always turns validation off, like the kernel.
void issue_capacity_report(const thread_lock_state& state, const char* limit_name,
                           const char* option_name, std::size_t limit, const void* ip);

}  // namespace lockdep::detail

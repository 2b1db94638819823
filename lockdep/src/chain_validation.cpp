// The slow path for a chain of held classes never seen before: record the chain, check for
// recursive locking, then add a dependency from each relevant held lock to the new one, each
// first checked for a path back (a possible deadlock). Runs under the graph lock.
#include <algorithm>
#include <vector>

#include "report_builder.hpp"
#include "validator_core.hpp"
#include "validator_internal.hpp"

namespace lockdep::detail {
namespace {

// The same class held already: a deadlock unless both are reads and the new one is recursive.
bool locks_recursively(const held_lock& held, const held_lock& next) {
  if (held.lock_class != next.lock_class) return false;
  return next.access != lock_access::shared_recursive || held.access == lock_access::exclusive;
}

// Copies the chain's classes (the held ones, bottom first, then the new one) into the scratch
// vector, and finds the held lock the new one locks recursively, if any, in the same walk over
// the held stack: each walk of a few entries ends in a mispredicted branch.
const held_lock* gather_chain(validator_core& shared, const thread_lock_state& state,
                              const held_lock& next) {
  std::vector<class_index>& classes = shared.chain_scratch;
  classes.resize(state.depth + 1);
  const held_lock* recursive = nullptr;
  for (std::uint32_t i = 0; i < state.depth; ++i) {
    const held_lock& held = state.held[i];
    classes[i] = held.lock_class;
    if (recursive == nullptr && locks_recursively(held, next)) recursive = &held;
  }
  classes[state.depth] = next.lock_class;
  return recursive;
}

// Records the chain gathered in the scratch vector.
bool record_chain(validator_core& shared, const thread_lock_state& state, const held_lock& next,
                  std::uint64_t chain_key) {
  const std::vector<class_index>& classes = shared.chain_scratch;
  std::uint32_t chain_id = 0;
  switch (shared.chains->insert(chain_key, classes, &chain_id)) {
    case chain_cache::insert_result::chains_full:
      issue_capacity_report(state, "MAX_LOCKDEP_CHAINS", "max_chains", shared.chains->capacity(),
                            next.acquire_ip);
      return false;
    case chain_cache::insert_result::hlocks_full:
      issue_capacity_report(state, "MAX_LOCKDEP_CHAIN_HLOCKS", "max_chain_hlocks",
                            shared.chains->hlocks_capacity(), next.acquire_ip);
      return false;
    case chain_cache::insert_result::inserted:
      break;
  }
  // Indexed by class only when a class is first forgotten (most programs never forget one).
  if (chain_id <= shared.indexed_through) shared.unindexed_reused_chains.push_back(chain_id);
  ++shared.new_chains;
  shared.deepest_chain = std::max(shared.deepest_chain, classes.size());
  return true;
}

void report_recursive(const thread_lock_state& state, const held_lock& held,
                      const held_lock& next) {
  report recursive = start_report(report_kind::recursive_locking, state, next.acquire_ip);
  recursive.acquiring = describe(next);
  recursive.holding = describe(held);
  issue(std::move(recursive));
}

// For the graph dumps: the first distinct cycles reported.
void remember_cycle(validator_core& shared, const std::vector<path_step>& path) {
  std::vector<validator_core::cycle_member> cycle;
  for (const path_step& step : path) {
    cycle.push_back({step.lock_class, shared.classes->identity(step.lock_class)});
  }
  auto same = [&cycle](const std::vector<validator_core::cycle_member>& known) {
    return std::equal(known.begin(), known.end(), cycle.begin(), cycle.end(),
                      [](const auto& a, const auto& b) { return a.identity == b.identity; });
  };
  if (shared.reported_cycles.size() >= validator_core::max_reported_cycles ||
      std::any_of(shared.reported_cycles.begin(), shared.reported_cycles.end(), same)) {
    return;
  }
  shared.reported_cycles.push_back(std::move(cycle));
}

void report_circular(validator_core& shared, const thread_lock_state& state, const held_lock& held,
                     const held_lock& next, const std::vector<path_step>& path) {
  report circular = start_report(report_kind::circular_dependency, state, next.acquire_ip);
  circular.acquiring = describe(next);
  circular.holding = describe(held);
  // Printed from the held lock's class (#D) back to the new lock's (#0); each class with the
  // trace that recorded the dependency leading to it, #0 with the current stack.
  for (std::size_t i = path.size(); i-- > 0;) {
    const lock_class& step_class = shared.classes->at(path[i].lock_class);
    dependency_step step;
    step.class_name = step_class.printable_name();
    step.name_source = name_source_of(step_class);
    step.usage = usage_string(step_class.usage.load(std::memory_order_relaxed));
    step.trace = i == 0 ? circular.backtrace : stored_stack(path[i].trace);
    circular.chain.push_back(std::move(step));
  }
  if (issue(std::move(circular))) remember_cycle(shared, path);
}

// Adds held --> next unless it closes a cycle (reported). `trace` is captured on first need
// and shared by every dependency this acquisition adds, as the kernel does.
bool add_dependency(validator_core& shared, const thread_lock_state& state, const held_lock& held,
                    const held_lock& next, unsigned distance, std::uint32_t& trace) {
  std::uint8_t types = dependency_type(held.access, next.access);
  // Already recorded with these types: the graph does not change, and it has no cycle (every
  // dependency was searched when it was added), so there is nothing to search for. A new type
  // on a known pair is searched: a stronger dependency can close a cycle a weaker one did not.
  if (dependency* known = shared.graph->find(held.lock_class, next.lock_class);
      known != nullptr && (known->types & types) == types) {
    shared.graph->note(*known, next.lock_class, types, distance);
    return true;
  }
  std::vector<path_step> path =
      shared.graph->find_cycle_path(next.lock_class, next.access, held.lock_class, held.access);
  if (!path.empty()) {
    if (held.lock_class == next.lock_class) {
      report_recursive(state, held, next);
    } else {
      report_circular(shared, state, held, next, path);
    }
    return false;
  }
  if (dependency* known = shared.graph->find(held.lock_class, next.lock_class)) {
    shared.graph->note(*known, next.lock_class, types, distance);
    return true;
  }
  if (trace == stack_store::no_trace) {
    std::uintptr_t frames[128];
    std::size_t count = current_raw_stack(next.acquire_ip, frames,
                                          std::min<std::size_t>(shared.config.stack_depth, 128));
    trace = shared.stacks->intern(std::span<const std::uintptr_t>(frames, count));
    if (trace == stack_store::no_trace && count > 0) {
      issue_capacity_report(state, "MAX_STACK_TRACE_ENTRIES", "max_stack_entries",
                            shared.stacks->max_entries(), next.acquire_ip);
      return false;
    }
  }
  if (!shared.graph->insert(held.lock_class, next.lock_class, types, distance, trace)) {
    issue_capacity_report(state, "MAX_LOCKDEP_ENTRIES", "max_dependencies",
                          shared.graph->capacity(), next.acquire_ip);
    return false;
  }
  // The stack that first locked a lock with no name of its own, for reports to name it by.
  if (lock_class& target = shared.classes->at(next.lock_class); target.first_use_pending) {
    target.first_use_trace = trace;
    target.first_use_pending = false;
  }
  return true;
}

// Dependencies from the held locks to the new one, nearest first. A held trylock does not stop
// the walk (nothing was recorded into it), nor does an unchecked lock (it takes no part); the
// first ordinary checked lock does: it already depends on everything below it.
void add_dependencies(validator_core& shared, const thread_lock_state& state,
                      const held_lock& next) {
  std::uint32_t trace = stack_store::no_trace;
  for (std::uint32_t i = state.depth; i-- > 0;) {
    const held_lock& held = state.held[i];
    if (!held.check) continue;
    if (!add_dependency(shared, state, held, next, state.depth - i, trace)) return;
    if (!held.trylock) return;
  }
}

}  // namespace

void validate_new_chain(thread_lock_state& state, const held_lock& next, std::uint64_t chain_key) {
  busy_scope busy(state);
  validator_core& shared = core();
  in_graph_section([&] {
    if (!validation_is_on()) return;
    if (shared.chains->contains(chain_key)) return;  // validated by another thread meanwhile
    const held_lock* recursive = gather_chain(shared, state, next);
    // Cached before it is checked, as in the kernel: a chain that was reported once is not
    // reported again when keep_going is set.
    if (!record_chain(shared, state, next, chain_key)) return;
    if (recursive != nullptr) {
      report_recursive(state, *recursive, next);
      return;
    }
    add_dependencies(shared, state, next);
  });
}

void rebuild_held_stack(thread_lock_state& state, std::uint32_t from, const held_lock* replaced) {
  // Copies first: pushing again overwrites the entries.
  std::vector<held_lock> above(state.held + from + 1, state.held + state.depth);
  held_lock first = replaced != nullptr ? *replaced : held_lock{};
  state.chain_key = state.held[from].prev_chain_key;
  state.depth = from;
  auto push_again = [&state](const held_lock& again) {
    acquire_request request{again.subclass, again.access, again.trylock, again.check};
    push_held_lock(state, *again.instance, again.lock_class, request, again.acquire_ip);
  };
  if (replaced != nullptr) push_again(first);
  for (const held_lock& again : above) push_again(again);
}

void report_bad_unlock(thread_lock_state& state, const lock_map& map, const void* ip) {
  busy_scope busy(state);
  in_graph_section([&] {
    if (!validation_is_on()) return;
    report unbalanced = start_report(report_kind::bad_unlock_balance, state, ip);
    unbalanced.acquiring.instance = &map;
    // The kernel prints the lock map's name here, without class suffixes.
    unbalanced.acquiring.class_name = map.name() != nullptr ? map.name() : "";
    if (unbalanced.acquiring.class_name.empty()) {
      class_index lock_class = lock_map_access::cached_class(map, map.default_subclass())
                                   .load(std::memory_order_relaxed);
      unbalanced.acquiring = describe(map, lock_class, lock_access::exclusive, ip);
    }
    unbalanced.acquiring.acquired_at.address = reinterpret_cast<std::uintptr_t>(ip);
    issue(std::move(unbalanced));
  });
}

void report_depth_overflow(thread_lock_state& state, const lock_map& map, class_index lock_class,
                           lock_access access, const void* ip) {
  busy_scope busy(state);
  in_graph_section([&] {
    if (!validation_is_on()) return;
    report overflow = start_report(report_kind::lock_depth_overflow, state, ip);
    overflow.acquiring = describe(map, lock_class, access, ip);
    overflow.limit_name = "MAX_LOCK_DEPTH";
    overflow.limit_option = "max_lock_depth";
    overflow.limit_value = state.max_depth;
    overflow.depth = state.depth;
    issue(std::move(overflow));
    turn_validation_off();
  });
}

}  // namespace lockdep::detail

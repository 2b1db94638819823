// lockdep::snapshot(): copies what the validator has learnt out of its tables, under the graph
// lock, into plain data (lockdep/state.hpp). Stack traces are copied as addresses under the
// lock and symbolized after it is released, as reports are.
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "held_lock_stack.hpp"
#include "lockdep/state.hpp"
#include "report_builder.hpp"
#include "symbolization.hpp"
#include "validator_core.hpp"

namespace lockdep {
namespace {

using detail::class_index;
using detail::validator_core;

// Breadth-first count of the classes reachable from `root` along `next` lists (after: FD,
// before: BD), the root excluded, as the kernel's lockdep_count_forward/backward_deps.
class reach_counter {
 public:
  explicit reach_counter(std::size_t class_slots) : seen_(class_slots, 0) {}

  template <class Lists>
  std::size_t count(class_index root, Lists next) {
    ++generation_;
    queue_.assign(1, root);
    seen_[root] = generation_;
    for (std::size_t head = 0; head < queue_.size(); ++head) {
      for (const detail::dependency& edge : next(queue_[head])) {
        if (seen_[edge.other] == generation_) continue;
        seen_[edge.other] = generation_;
        queue_.push_back(edge.other);
      }
    }
    return queue_.size() - 1;
  }

 private:
  std::vector<std::uint64_t> seen_;
  std::uint64_t generation_ = 0;
  std::vector<class_index> queue_;
};

std::vector<std::string> type_names(std::uint8_t types) {
  static constexpr struct {
    std::uint8_t bit;
    const char* name;
  } known[] = {{detail::dep_shared_recursive, "SR"},
               {detail::dep_exclusive_recursive, "ER"},
               {detail::dep_shared_nonrecursive, "SN"},
               {detail::dep_exclusive_nonrecursive, "EN"}};
  std::vector<std::string> names;
  for (const auto& type : known) {
    if ((types & type.bit) != 0) names.emplace_back(type.name);
  }
  return names;
}

std::string usage_characters(std::uint32_t usage) {
  std::string braced = detail::usage_string(usage);  // "{+.+.}"
  return braced.substr(1, braced.size() - 2);
}

// Everything but the symbolized traces, copied under the graph lock.
validator_state copy_tables(validator_core& shared,
                            std::vector<std::vector<std::uintptr_t>>& raw_traces) {
  validator_state state;
  const detail::class_registry& classes = *shared.classes;
  std::vector<class_index> in_use = classes.all();
  std::unordered_map<class_index, std::size_t> position;
  position.reserve(in_use.size());

  reach_counter reach(classes.end_index());
  for (class_index index : in_use) {
    const detail::lock_class& found = classes.at(index);
    position.emplace(index, state.classes.size());
    class_state copied;
    copied.name = found.printable_name();
    copied.key = static_cast<const char*>(classes.identity(index)) - found.subclass;
    std::uint32_t usage = found.usage.load(std::memory_order_relaxed);
    copied.usage = usage_characters(usage);
    copied.forward_reachable = reach.count(
        index, [&](class_index at) -> const auto& { return classes.at(at).after; });
    copied.backward_reachable = reach.count(
        index, [&](class_index at) -> const auto& { return classes.at(at).before; });
    state.stats.indirect_dependencies += copied.forward_reachable;
    if (usage == 0) ++state.stats.unused_locks;
    state.classes.push_back(std::move(copied));
  }

  for (class_index index : in_use) {
    for (const detail::dependency& edge : classes.at(index).after) {
      dependency_state copied;
      copied.from = position.at(index);
      copied.to = position.at(edge.other);
      copied.types = type_names(edge.types);
      copied.distance = edge.distance;
      std::span<const std::uintptr_t> frames = shared.stacks->frames(edge.trace);
      raw_traces.emplace_back(frames.begin(), frames.end());
      state.dependencies.push_back(std::move(copied));
    }
  }

  for (std::uint32_t id = 1; id <= shared.chains->last_id(); ++id) {
    const detail::chain_cache::chain* recorded = shared.chains->record(id);
    if (recorded == nullptr) continue;
    chain_state copied;
    for (class_index member : recorded->classes) {
      auto found = position.find(member);
      if (found != position.end()) copied.classes.push_back(found->second);
    }
    state.chains.push_back(std::move(copied));
  }

  for (const auto& cycle : shared.reported_cycles) {
    std::vector<std::size_t> members;
    for (const validator_core::cycle_member& member : cycle) {
      if (classes.identity(member.lock_class) != member.identity) continue;  // forgotten
      members.push_back(position.at(member.lock_class));
    }
    if (!members.empty()) state.reported_cycles.push_back(std::move(members));
  }

  validator_stats& stats = state.stats;
  stats.lock_classes = in_use.size();
  stats.max_lock_classes = classes.capacity();
  stats.direct_dependencies = shared.graph->size();
  stats.max_direct_dependencies = shared.graph->capacity();
  stats.dependency_chains = shared.chains->size();
  stats.max_dependency_chains = shared.chains->capacity();
  stats.chain_hlocks = shared.chains->hlocks_used();
  stats.max_chain_hlocks = shared.chains->hlocks_capacity();
  stats.stack_trace_entries = shared.stacks->entries_used();
  stats.max_stack_trace_entries = shared.stacks->max_entries();
  stats.stack_traces = shared.stacks->trace_count();
  stats.max_locking_depth = shared.deepest_chain;
  stats.chain_lookup_misses = shared.new_chains;
  stats.chain_lookup_hits = detail::chain_lookup_hits() - shared.chain_hits_at_rebuild;
  stats.cyclic_checks = shared.graph->searches();
  stats.reports = shared.reports_issued;
  stats.suppressed_reports = shared.suppressed_reports;
  stats.debug_locks = detail::validation_is_on();
  return state;
}

// Marks the dependencies that are edges of a reported cycle: consecutive members, acquiring
// class first, as the search found the path (the closing edge, holding --> acquiring, was
// refused, so it is not among them).
void mark_cycle_edges(validator_state& state) {
  for (const std::vector<std::size_t>& cycle : state.reported_cycles) {
    for (std::size_t i = 0; i + 1 < cycle.size(); ++i) {
      for (dependency_state& edge : state.dependencies) {
        if (edge.from == cycle[i] && edge.to == cycle[i + 1]) edge.in_reported_cycle = true;
      }
    }
  }
}

}  // namespace

validator_state snapshot() {
  detail::thread_lock_state& thread = detail::this_thread_state();
  detail::busy_scope busy(thread);  // symbolizing may take locks; they are not validated
  std::vector<std::vector<std::uintptr_t>> raw_traces;
  validator_state state;
  {
    validator_core& shared = detail::core();
    std::lock_guard guard(shared.graph_lock);
    state = copy_tables(shared, raw_traces);
  }
  for (std::size_t i = 0; i < state.dependencies.size(); ++i) {
    state.dependencies[i].trace = detail::symbolize(raw_traces[i]);
  }
  mark_cycle_edges(state);
  return state;
}

}  // namespace lockdep

// What the validator has learnt, as data and as the kernel's /proc files: the lock classes with
// their usage and dependencies (/proc/lockdep), the cached lock chains (/proc/lockdep_chains),
// the counters (/proc/lockdep_stats), and the dependency graph as Graphviz DOT or JSON with
// every reported cycle marked.
//
//   lockdep::validator_state now = lockdep::snapshot();
//   std::fputs(lockdep::proc_lockdep_stats(now).c_str(), stderr);
//   std::ofstream("locks.dot") << lockdep::graph_dot(now);   // dot -Tsvg locks.dot > locks.svg
//
// snapshot() is thread-safe and consistent (taken under the validator's graph lock, which it
// holds while it copies; symbolizing the dependencies' stack traces happens after). Its cost
// grows with the graph: the FD/BD counts are a search per class, as in the kernel. The same
// output is available without code changes through LOCKDEP_OPTIONS (dump_path, dump_signal,
// graph_dot_path, graph_json_path; see README).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lockdep/report.hpp"

namespace lockdep {

struct class_state {
  std::string name;                    // printed name, with the kernel's `#N` and `/N` suffixes
  const void* key;                     // the class key: a lock_class_key, or the lock itself
  std::string usage;                   // the usage characters without braces, e.g. "+.+."
  std::size_t forward_reachable = 0;   // FD: classes reachable through dependencies from it
  std::size_t backward_reachable = 0;  // BD: classes from which it is reachable
};

// "to was acquired while from was held".
struct dependency_state {
  std::size_t from;  // index into validator_state::classes
  std::size_t to;
  // The kernel's dependency types seen, each "SR", "ER", "SN" or "EN": the holder (S)hared or
  // (E)xclusive, the acquirer (R)ecursive-read or (N)ot.
  std::vector<std::string> types;
  unsigned distance = 1;  // 1: `to` was taken directly on top of `from` (listed in /proc/lockdep)
  stack_trace trace;      // where it was first seen
  bool in_reported_cycle = false;  // an edge of a cycle some circular report showed
};

struct chain_state {
  std::vector<std::size_t> classes;  // indexes into validator_state::classes, bottom first
};

// /proc/lockdep_stats, for what this port has. The DEBUG_LOCKDEP counters are kept always.
struct validator_stats {
  std::size_t lock_classes = 0, max_lock_classes = 0;
  std::size_t direct_dependencies = 0, max_direct_dependencies = 0;  // edges (the kernel: x2)
  std::size_t indirect_dependencies = 0;                             // the sum of every class's FD
  std::size_t dependency_chains = 0, max_dependency_chains = 0;
  std::size_t chain_hlocks = 0, max_chain_hlocks = 0;
  std::size_t stack_trace_entries = 0, max_stack_trace_entries = 0;
  std::size_t stack_traces = 0;
  std::size_t unused_locks = 0;           // classes never acquired
  std::size_t max_locking_depth = 0;      // the deepest validated chain
  std::uint64_t chain_lookup_hits = 0;    // acquisitions whose chain was validated before
  std::uint64_t chain_lookup_misses = 0;  // new chains validated (the slow path)
  std::uint64_t cyclic_checks = 0;        // searches for a path back
  std::uint64_t reports = 0;              // reports issued
  std::uint64_t suppressed_reports = 0;   // reports a suppression matched, not issued
  bool debug_locks = true;                // validation still on
};

struct validator_state {
  std::vector<class_state> classes;  // in class-table order
  std::vector<dependency_state> dependencies;
  std::vector<chain_state> chains;
  validator_stats stats;
  // The class cycles of the circular reports issued so far (at most the first 64), each as
  // the report's `Chain exists of:` line: indexes into `classes`, acquiring lock first. A class
  // forgotten since is left out.
  std::vector<std::vector<std::size_t>> reported_cycles;
};

validator_state snapshot();

// The kernel's /proc/lockdep text: "all lock classes:", then per class its key, FD, BD, usage
// and name, and a ` -> ` line for each dependency of distance 1.
std::string proc_lockdep(const validator_state& state);
// /proc/lockdep_chains: "all lock chains:", then per chain `irq_context: 0` and its classes.
std::string proc_lockdep_chains(const validator_state& state);
// /proc/lockdep_stats: one ` label: value [max: M]` line per counter, in the kernel's layout.
std::string proc_lockdep_stats(const validator_state& state);

// The dependency graph for Graphviz: one node per class that has a dependency, one edge per
// dependency; the classes and edges of reported cycles in red.
std::string graph_dot(const validator_state& state);
// The same graph as one JSON object: {"classes": [...], "dependencies": [...], "cycles": [...],
// "stats": {...}}, with each dependency's stack trace.
std::string graph_json(const validator_state& state);

}  // namespace lockdep

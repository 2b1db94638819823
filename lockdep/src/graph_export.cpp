// The dependency graph of a snapshot as Graphviz DOT (to look at) and as JSON (for tools).
// Classes and dependencies of reported cycles are drawn in red; the dependency that would have
// closed a cycle was refused by the validator, so it is not in the graph, and is drawn dashed.
#include <fmt/format.h>

#include <iterator>
#include <string>
#include <vector>

#include "json_text.hpp"
#include "lockdep/state.hpp"

namespace lockdep {
namespace {

// A DOT double-quoted string: only `"` and `\` need escaping; a newline becomes a line break.
std::string dot_string(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    if (c == '\n') {
      quoted += "\\n";
      continue;
    }
    quoted += c;
  }
  return quoted + '"';
}

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) text += separator;
    text += parts[i];
  }
  return text;
}

// Per class: whether it is on a reported cycle, and whether it appears in the graph at all.
struct class_marks {
  std::vector<bool> in_cycle;
  std::vector<bool> drawn;
};

class_marks mark_classes(const validator_state& state) {
  class_marks marks{std::vector<bool>(state.classes.size()),
                    std::vector<bool>(state.classes.size())};
  for (const std::vector<std::size_t>& cycle : state.reported_cycles) {
    for (std::size_t member : cycle) marks.in_cycle[member] = marks.drawn[member] = true;
  }
  for (const dependency_state& edge : state.dependencies) {
    marks.drawn[edge.from] = marks.drawn[edge.to] = true;
  }
  return marks;
}

}  // namespace

std::string graph_dot(const validator_state& state) {
  class_marks marks = mark_classes(state);
  std::string text = "digraph lockdep {\n";
  auto out = std::back_inserter(text);
  text += "  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
  text += "  edge [fontname=\"monospace\", fontsize=10];\n";
  for (std::size_t index = 0; index < state.classes.size(); ++index) {
    if (!marks.drawn[index]) continue;  // never ordered against another class
    const class_state& found = state.classes[index];
    fmt::format_to(out, "  c{} [label={}{}];\n", index,
                   dot_string(found.name + "\n{" + found.usage + "}"),
                   marks.in_cycle[index] ? ", color=red, fontcolor=red, penwidth=2" : "");
  }
  for (const dependency_state& edge : state.dependencies) {
    fmt::format_to(out, "  c{} -> c{} [label={}{}];\n", edge.from, edge.to,
                   dot_string(joined(edge.types, ",")),
                   edge.in_reported_cycle ? ", color=red, fontcolor=red, penwidth=2" : "");
  }
  // Each cycle's closing dependency: from the held class (last) to the acquiring one (first).
  for (const std::vector<std::size_t>& cycle : state.reported_cycles) {
    if (cycle.size() < 2) continue;
    fmt::format_to(out,
                   "  c{} -> c{} [label=\"refused: closes a cycle\", color=red, "
                   "fontcolor=red, style=dashed, penwidth=2];\n",
                   cycle.back(), cycle.front());
  }
  text += "}\n";
  return text;
}

std::string graph_json(const validator_state& state) {
  std::string text = "{\"classes\":[";
  auto out = std::back_inserter(text);
  for (std::size_t index = 0; index < state.classes.size(); ++index) {
    const class_state& found = state.classes[index];
    if (index != 0) text += ',';
    fmt::format_to(out, "{{\"id\":{},\"name\":", index);
    detail::append_json_string(text, found.name);
    fmt::format_to(out,
                   ",\"key\":\"0x{:x}\",\"usage\":", reinterpret_cast<std::uintptr_t>(found.key));
    detail::append_json_string(text, found.usage);
    fmt::format_to(out, ",\"forward_reachable\":{},\"backward_reachable\":{}}}",
                   found.forward_reachable, found.backward_reachable);
  }
  text += "],\"dependencies\":[";
  for (std::size_t i = 0; i < state.dependencies.size(); ++i) {
    const dependency_state& edge = state.dependencies[i];
    if (i != 0) text += ',';
    fmt::format_to(out, "{{\"from\":{},\"to\":{},\"types\":[", edge.from, edge.to);
    for (std::size_t t = 0; t < edge.types.size(); ++t) {
      if (t != 0) text += ',';
      detail::append_json_string(text, edge.types[t]);
    }
    fmt::format_to(out, "],\"distance\":{},\"in_reported_cycle\":{},\"trace\":", edge.distance,
                   edge.in_reported_cycle);
    detail::append_json_trace(text, edge.trace);
    text += '}';
  }
  text += "],\"chains\":[";
  for (std::size_t i = 0; i < state.chains.size(); ++i) {
    if (i != 0) text += ',';
    fmt::format_to(out, "[{}]", fmt::join(state.chains[i].classes, ","));
  }
  text += "],\"cycles\":[";
  for (std::size_t i = 0; i < state.reported_cycles.size(); ++i) {
    if (i != 0) text += ',';
    fmt::format_to(out, "[{}]", fmt::join(state.reported_cycles[i], ","));
  }
  const validator_stats& stats = state.stats;
  fmt::format_to(out,
                 "],\"stats\":{{\"lock_classes\":{},\"max_lock_classes\":{},"
                 "\"direct_dependencies\":{},\"max_direct_dependencies\":{},"
                 "\"indirect_dependencies\":{},\"dependency_chains\":{},"
                 "\"max_dependency_chains\":{},\"chain_hlocks\":{},\"max_chain_hlocks\":{},"
                 "\"stack_trace_entries\":{},\"max_stack_trace_entries\":{},"
                 "\"stack_traces\":{},\"unused_locks\":{},\"max_locking_depth\":{},"
                 "\"chain_lookup_misses\":{},\"chain_lookup_hits\":{},\"cyclic_checks\":{},"
                 "\"reports\":{},"
                 "\"suppressed_reports\":{},"
                 "\"debug_locks\":{}}}}}\n",
                 stats.lock_classes, stats.max_lock_classes, stats.direct_dependencies,
                 stats.max_direct_dependencies, stats.indirect_dependencies,
                 stats.dependency_chains, stats.max_dependency_chains, stats.chain_hlocks,
                 stats.max_chain_hlocks, stats.stack_trace_entries, stats.max_stack_trace_entries,
                 stats.stack_traces, stats.unused_locks, stats.max_locking_depth,
                 stats.chain_lookup_misses, stats.chain_lookup_hits, stats.cyclic_checks,
                 stats.reports, stats.suppressed_reports, stats.debug_locks);
  return text;
}

}  // namespace lockdep

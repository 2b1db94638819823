// The kernel's /proc/lockdep, /proc/lockdep_chains and /proc/lockdep_stats, rendered from a
// snapshot in the kernel's layout, so that what people grep those files for works here too.
#include <fmt/format.h>

#include <cstdint>
#include <iterator>
#include <string>

#include "lockdep/state.hpp"

namespace lockdep {
namespace {

// The kernel prints class keys with %p: sixteen hex digits.
std::string pointer_text(const void* pointer) {
  return fmt::format("{:016x}", reinterpret_cast<std::uintptr_t>(pointer));
}

// A usage character is '+' when the class was acquired that way (lock_class.hpp): positions
// 0 and 2 are hardirq and softirq writes, 1 and 3 the reads.
bool used_as(const class_state& found, std::size_t position) {
  return found.usage.size() > position && found.usage[position] == '+';
}

}  // namespace

std::string proc_lockdep(const validator_state& state) {
  std::string text = "all lock classes:\n";
  auto out = std::back_inserter(text);
  for (std::size_t index = 0; index < state.classes.size(); ++index) {
    const class_state& found = state.classes[index];
    fmt::format_to(out, "{} FD:{:5} BD:{:5} {}: {}\n", pointer_text(found.key),
                   found.forward_reachable, found.backward_reachable, found.usage, found.name);
    for (const dependency_state& edge : state.dependencies) {
      if (edge.from != index || edge.distance != 1) continue;
      const class_state& after = state.classes[edge.to];
      fmt::format_to(out, " -> [{}] {}\n", pointer_text(after.key), after.name);
    }
    text += '\n';
  }
  return text;
}

std::string proc_lockdep_chains(const validator_state& state) {
  std::string text = "all lock chains:\n";
  auto out = std::back_inserter(text);
  for (const chain_state& chain : state.chains) {
    // No interrupt contexts in userspace: every chain is a process-context chain.
    text += "irq_context: 0\n";
    for (std::size_t member : chain.classes) {
      const class_state& found = state.classes[member];
      fmt::format_to(out, "[{}] {}\n", pointer_text(found.key), found.name);
    }
    text += '\n';
  }
  return text;
}

std::string proc_lockdep_stats(const validator_state& state) {
  const validator_stats& stats = state.stats;
  std::size_t hardirq_unsafe = 0, softirq_unsafe = 0, irq_unsafe = 0;
  std::size_t hardirq_read_unsafe = 0, softirq_read_unsafe = 0, irq_read_unsafe = 0;
  for (const class_state& found : state.classes) {
    hardirq_unsafe += used_as(found, 0);
    softirq_unsafe += used_as(found, 2);
    irq_unsafe += used_as(found, 0) || used_as(found, 2);
    hardirq_read_unsafe += used_as(found, 1);
    softirq_read_unsafe += used_as(found, 3);
    irq_read_unsafe += used_as(found, 1) || used_as(found, 3);
  }

  std::string text;
  auto out = std::back_inserter(text);
  // The kernel's layout: a space, the label padded to 31 columns, the value in 11.
  auto line = [&out](const char* label, auto value) {
    fmt::format_to(out, " {:<31}{:>11}\n", label, value);
  };
  auto line_with_max = [&out](const char* label, auto value, auto max) {
    fmt::format_to(out, " {:<31}{:>11} [max: {}]\n", label, value, max);
  };
  line_with_max("lock-classes:", stats.lock_classes, stats.max_lock_classes);
  line_with_max("direct dependencies:", stats.direct_dependencies, stats.max_direct_dependencies);
  line("indirect dependencies:", stats.indirect_dependencies);
  line("all direct dependencies:", stats.direct_dependencies);
  line_with_max("dependency chains:", stats.dependency_chains, stats.max_dependency_chains);
  line_with_max("dependency chain hlocks used:", stats.chain_hlocks, stats.max_chain_hlocks);
  line("in-hardirq chains:", 0);
  line("in-softirq chains:", 0);
  line("in-process chains:", stats.dependency_chains);
  line_with_max("stack-trace entries:", stats.stack_trace_entries, stats.max_stack_trace_entries);
  line("number of stack traces:", stats.stack_traces);
  line("combined max dependencies:", stats.dependency_chains + 1);  // (0+1)*(0+1)*(process+1)
  line("hardirq-safe locks:", 0);
  line("hardirq-unsafe locks:", hardirq_unsafe);
  line("softirq-safe locks:", 0);
  line("softirq-unsafe locks:", softirq_unsafe);
  line("irq-safe locks:", 0);
  line("irq-unsafe locks:", irq_unsafe);
  line("hardirq-read-safe locks:", 0);
  line("hardirq-read-unsafe locks:", hardirq_read_unsafe);
  line("softirq-read-safe locks:", 0);
  line("softirq-read-unsafe locks:", softirq_read_unsafe);
  line("irq-read-safe locks:", 0);
  line("irq-read-unsafe locks:", irq_read_unsafe);
  line("uncategorized locks:", 0);
  line("unused locks:", stats.unused_locks);
  line("max locking depth:", stats.max_locking_depth);
  line("chain lookup misses:", stats.chain_lookup_misses);
  line("chain lookup hits:", stats.chain_lookup_hits);
  line("cyclic checks:", stats.cyclic_checks);
  line("reports:", stats.reports);
  line("suppressed reports:", stats.suppressed_reports);
  line("debug_locks:", stats.debug_locks ? 1 : 0);
  return text;
}

}  // namespace lockdep

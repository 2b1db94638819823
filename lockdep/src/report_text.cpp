// Renders a `report` as the text the Linux kernel's lockdep prints for the same problem (the
// 5.6-era format: usage strings without the `-{o:i}` wait-type suffix). The text has to match
// the kernel's line for line, so that people and tools that know lockdep splats can read ours.
// Frames whose source line is known are printed as they read once the kernel's
// scripts/decode_stacktrace.sh has decoded them (stack_frame::decoded_text()), a trace's frames
// with a line for each function inlined into them (stack_frame::decoded_lines()); with
// source_locations=0 every frame is the kernel's %pS.

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "code_origin.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report.hpp"
#include "report_output.hpp"

namespace lockdep {

namespace {

// The kernel prints `<uts release> <uts version> <taint>`; we have no kernel, so the port names
// itself. Both the report header and the dump_stack `CPU:` line are built from these.
constexpr const char* release_name = "lockdep-0.1.0";
constexpr const char* version_name = "#1";
// A function, not a global string: a report may be rendered during static initialisation.
const std::string& ident_line() {
  static const std::string line = std::string(release_name) + " " + version_name + " Not tainted";
  return line;
}

using lines = std::vector<std::string>;

text_options configured_text_options() {
  return detail::text_options_of(current_options());
}

std::string hex16(std::uintptr_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string hex16(const void* pointer) {
  return hex16(reinterpret_cast<std::uintptr_t>(pointer));
}

std::string trimmed_file_line(const char* path) {
  std::ifstream file(path);
  std::string text;
  std::getline(file, text);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.pop_back();
  return text;
}

// The kernel's `Hardware name:` comes from DMI; read it once, as it cannot change while we run.
std::string read_hardware_name() {
  std::string vendor = trimmed_file_line("/sys/class/dmi/id/sys_vendor");
  std::string product = trimmed_file_line("/sys/class/dmi/id/product_name");
  std::string name = vendor;
  if (!vendor.empty() && !product.empty()) name += " ";
  name += product;
  if (!name.empty()) return name;
  utsname uts{};
  if (uname(&uts) == 0) return uts.machine;
  return "unknown";
}

const std::string& hardware_name() {
  static const std::string name = read_hardware_name();
  return name;
}

// print_lock(): `<instance> (<class>)<usage>, at: <site>`. One location: the line in the
// site's own function, which is the one the user wrote even when the lock call was inlined.
std::string lock_text(const lock_description& lock, const text_options& shown) {
  return hex16(lock.instance) + " (" + lock.class_name + ")" + lock.usage +
         ", at: " + lock.acquired_at.decoded_text(shown);
}

// print_ip_sym(): `[<address>] %pS`. decode_stacktrace.sh drops the address from a line it
// decodes.
std::string ip_sym_text(const stack_frame& site, const text_options& shown) {
  const std::string plain = site.text();
  std::string decoded = site.decoded_text(shown);
  return decoded != plain ? decoded : "[<" + hex16(site.address) + ">] " + plain;
}

// The scenario tables spell a read acquisition as `rlock(`.
std::string lock_call(const lock_description& lock, const std::string& name) {
  const char* verb = lock.access == lock_access::exclusive ? "lock(" : "rlock(";
  return verb + name + ");";
}

void add_header(lines& out, const std::string& title, std::size_t width) {
  out.emplace_back();  // the kernel's pr_warn("\n") before every report
  out.push_back(std::string(width, '='));
  out.push_back(title);
  out.push_back(ident_line());
  out.push_back(std::string(width, '-'));
}

void add_held_locks(lines& out, const report& r, const text_options& shown) {
  const std::string task = r.thread.text();
  const std::size_t count = r.held_locks.size();
  if (count == 0) {
    out.push_back("no locks held by " + task + ".");
    return;
  }
  out.push_back(std::to_string(count) + (count > 1 ? " locks" : " lock") + " held by " + task +
                ":");
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(" #" + std::to_string(i) + ": " + lock_text(r.held_locks[i], shown));
  }
}

// A trace's lines, one per frame and inlined function, each saying whose code it is.
struct trace_line {
  std::string text;
  bool standard_library;
  bool program;  // neither the standard library's nor the validator's
};

std::vector<trace_line> trace_lines(const stack_trace& trace, const text_options& shown) {
  std::vector<trace_line> decoded;
  for (const stack_frame& frame : trace) {
    std::vector<std::string> texts = frame.decoded_lines(shown);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const bool inlined = i < frame.inlined.size();
      const std::string& function = inlined ? frame.inlined[i].function : frame.function;
      const bool standard_library = detail::is_standard_library(function, frame.module);
      decoded.push_back(
          {std::move(texts[i]), standard_library, !standard_library && !frame.in_validator});
    }
  }
  return decoded;
}

// Runs of standard library lines are folded into one unless shown.std_frames: std::thread's,
// std::function's and std::invoke's plumbing between the program's frames. The lines above
// the program's first own line stay: they tell how the lock was taken (std::mutex::lock,
// std::lock_guard's constructor).
void add_trace(lines& out, const stack_trace& trace, std::size_t indent,
               const text_options& shown) {
  const std::vector<trace_line> decoded = trace_lines(trace, shown);
  const std::string margin(indent, ' ');
  bool below_program = false;
  for (std::size_t i = 0; i < decoded.size();) {
    std::size_t run = 0;
    while (below_program && i + run < decoded.size() && decoded[i + run].standard_library) ++run;
    if (run >= 2 && !shown.std_frames) {
      out.push_back(margin + "... " + std::to_string(run) +
                    " C++ standard library frames (std_frames=1 shows them)");
      i += run;
      continue;
    }
    below_program = below_program || decoded[i].program;
    out.push_back(margin + decoded[i].text);
    ++i;
  }
}

void add_call_trace(lines& out, const report& r, const text_options& shown) {
  out.push_back("Call Trace:");
  add_trace(out, r.backtrace, 1, shown);
}

// dump_stack(): the task line, the hardware line and the trace.
void add_dump_stack(lines& out, const report& r, const text_options& shown) {
  out.push_back("CPU: " + std::to_string(r.cpu) + " PID: " + std::to_string(r.thread.tid) +
                " Comm: " + r.thread.comm + " Not tainted " + release_name + " " + version_name);
  out.push_back("Hardware name: " + hardware_name());
  add_call_trace(out, r, shown);
}

void add_stack_backtrace(lines& out, const report& r, const text_options& shown) {
  out.emplace_back();
  out.push_back("stack backtrace:");
  add_dump_stack(out, r, shown);
}

// The kernel has no such line; a userspace user needs to know which knob raises the limit.
void add_limit_hint(lines& out, const report& r) {
  out.push_back("Raise the limit with LOCKDEP_OPTIONS=" + r.limit_option + "=<N>.");
}

void add_trying_and_holding(lines& out, const report& r, const text_options& shown) {
  out.push_back(r.thread.text() + " is trying to acquire lock:");
  out.push_back(lock_text(r.acquiring, shown));
  out.emplace_back();
  out.push_back("but task is already holding lock:");
  out.push_back(lock_text(r.holding, shown));
}

void add_dependency_chain(lines& out, const report& r, const text_options& shown) {
  out.push_back("the existing dependency chain (in reverse order) is:");
  const std::size_t count = r.chain.size();
  for (std::size_t i = 0; i < count; ++i) {
    const dependency_step& step = r.chain[i];
    out.emplace_back();
    out.push_back("-> #" + std::to_string(count - 1 - i) + " (" + step.class_name + ")" +
                  step.usage + ":");
    add_trace(out, step.trace, 7, shown);
  }
}

// print_circular_lock_scenario(): source = the lock being acquired, target = the held lock,
// parent = the class printed right after the target (the source itself in an ABBA cycle).
void add_circular_scenario(lines& out, const report& r) {
  const std::string& source = r.acquiring.class_name;
  const std::string& target = r.holding.class_name;
  const bool long_cycle = r.chain.size() > 2;
  const std::string& parent = long_cycle ? r.chain[1].class_name : source;
  if (long_cycle) {
    out.push_back("Chain exists of:");
    out.push_back("  " + source + " --> " + parent + " --> " + target);
    out.emplace_back();
  }
  const std::string cpu1_column(31, ' ');
  out.push_back(" Possible unsafe locking scenario:");
  out.emplace_back();
  out.push_back("       CPU0                    CPU1");
  out.push_back("       ----                    ----");
  out.push_back("  " + lock_call(r.holding, target));
  out.push_back(cpu1_column + "lock(" + parent + ");");
  out.push_back(cpu1_column + "lock(" + target + ");");
  out.push_back("  " + lock_call(r.acquiring, source));
  out.emplace_back();
  out.push_back(" *** DEADLOCK ***");
  out.emplace_back();
}

lines circular_lines(const report& r, const text_options& shown) {
  lines out;
  add_header(out, "WARNING: possible circular locking dependency detected", 54);
  add_trying_and_holding(out, r, shown);
  out.emplace_back();
  out.push_back("which lock already depends on the new lock.");
  out.emplace_back();
  out.emplace_back();
  add_dependency_chain(out, r, shown);
  out.emplace_back();
  out.push_back("other info that might help us debug this:");
  out.emplace_back();
  add_circular_scenario(out, r);
  add_held_locks(out, r, shown);
  add_stack_backtrace(out, r, shown);
  return out;
}

lines recursive_lines(const report& r, const text_options& shown) {
  lines out;
  add_header(out, "WARNING: possible recursive locking detected", 44);
  add_trying_and_holding(out, r, shown);
  out.emplace_back();
  // Unlike the circular report, no blank line before the scenario here.
  out.push_back("other info that might help us debug this:");
  out.push_back(" Possible unsafe locking scenario:");
  out.emplace_back();
  out.push_back("       CPU0");
  out.push_back("       ----");
  out.push_back("  lock(" + r.holding.class_name + ");");
  out.push_back("  lock(" + r.acquiring.class_name + ");");
  out.emplace_back();
  out.push_back(" *** DEADLOCK ***");
  out.emplace_back();
  out.push_back(" May be due to missing lock nesting notation");
  out.emplace_back();
  add_held_locks(out, r, shown);
  add_stack_backtrace(out, r, shown);
  return out;
}

lines bad_unlock_lines(const report& r, const text_options& shown) {
  lines out;
  add_header(out, "WARNING: bad unlock balance detected!", 37);
  out.push_back(r.thread.text() + " is trying to release lock (" + r.acquiring.class_name +
                ") at:");
  out.push_back(ip_sym_text(r.acquiring.acquired_at, shown));
  out.push_back("but there are no more locks to release!");
  out.emplace_back();
  out.push_back("other info that might help us debug this:");
  add_held_locks(out, r, shown);
  add_stack_backtrace(out, r, shown);
  return out;
}

lines held_lock_freed_lines(const report& r, const text_options& shown) {
  lines out;
  add_header(out, "WARNING: held lock freed!", 25);
  // The kernel prints the last freed byte, not the end of the range.
  const auto last = reinterpret_cast<std::uintptr_t>(r.freed_to) - 1;
  out.push_back(r.thread.text() + " is freeing memory " + hex16(r.freed_from) + "-" + hex16(last) +
                ", with a lock still held there!");
  out.push_back(lock_text(r.holding, shown));
  add_held_locks(out, r, shown);
  add_stack_backtrace(out, r, shown);
  return out;
}

lines locks_held_at_exit_lines(const report& r, const text_options& shown) {
  lines out;
  // The separators stay 36 wide whatever the task name's length, as in the kernel.
  add_header(out, "WARNING: " + r.thread.text() + " still has locks held!", 36);
  add_held_locks(out, r, shown);
  add_stack_backtrace(out, r, shown);
  return out;
}

// print_lockdep_off(): the capacity messages have no ==== header.
void add_lockdep_off(lines& out, const std::string& message) {
  out.push_back(message);
  out.push_back("turning off the locking correctness validator.");
}

lines lock_depth_overflow_lines(const report& r, const text_options& shown) {
  lines out;
  add_lockdep_off(out, "BUG: MAX_LOCK_DEPTH too low!");
  out.push_back("depth: " + std::to_string(r.depth) + "  max: " + std::to_string(r.limit_value) +
                "!");
  add_limit_hint(out, r);
  add_held_locks(out, r, shown);
  add_stack_backtrace(out, r, shown);
  return out;
}

lines capacity_exhausted_lines(const report& r, const text_options& shown) {
  lines out;
  add_lockdep_off(out, "BUG: " + r.limit_name + " too low!");
  add_limit_hint(out, r);
  add_stack_backtrace(out, r, shown);
  return out;
}

lines invalid_subclass_lines(const report& r, const text_options& shown) {
  lines out;
  add_lockdep_off(out, "BUG: looking up invalid subclass: " + std::to_string(r.subclass));
  add_stack_backtrace(out, r, shown);
  return out;
}

// A failed lockdep_assert_*() is a WARN_ON in the kernel, so it renders as a WARN splat.
lines assertion_failed_lines(const report& r, const text_options& shown) {
  lines out;
  out.push_back("------------[ cut here ]------------");
  // The kernel's `at file:line function`: assertion_site.function carries both.
  out.push_back("WARNING: CPU: " + std::to_string(r.cpu) + " PID: " + std::to_string(r.thread.tid) +
                " at " + r.assertion_site.function);
  out.push_back(r.assertion);
  if (r.acquiring.instance != nullptr) out.push_back(" lock: " + lock_text(r.acquiring, shown));
  add_held_locks(out, r, shown);
  add_call_trace(out, r, shown);
  out.push_back("---[ end trace 0000000000000000 ]---");
  return out;
}

void add_held_locks_of(lines& out, const thread_held_locks& thread, const text_options& shown) {
  const std::size_t count = thread.held_count;
  out.push_back(std::to_string(count) + (count > 1 ? " locks" : " lock") + " held by " +
                thread.thread.text() + ":");
  // lockdep_print_held_locks() stops here for a task that is running.
  for (std::size_t i = 0; i < thread.locks.size(); ++i) {
    out.push_back(" #" + std::to_string(i) + ": " + lock_text(thread.locks[i], shown));
  }
}

// kernel/hung_task.c's check_hung_task() (5.6) for a task blocked in uninterruptible sleep,
// then debug_show_all_locks(). sched_show_task's line: comm, state D, free stack (unknown here:
// 0), pid, ppid and thread flags.
lines hung_task_lines(const report& r, const text_options& shown) {
  lines out;
  out.push_back("INFO: task " + r.thread.comm + ":" + std::to_string(r.thread.tid) +
                " blocked for more than " + std::to_string(static_cast<long>(r.blocked_seconds)) +
                " seconds.");
  out.push_back(std::string("      Not tainted ") + release_name + " " + version_name);
  out.push_back("\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.");
  char task_line[96];
  std::snprintf(task_line, sizeof task_line, "%-15.15s D%5lu %5ld %6ld 0x%08lx",
                r.thread.comm.c_str(), 0UL, r.thread.tid, static_cast<long>(getppid()), 0UL);
  out.push_back(task_line);
  out.push_back("Call Trace:");
  add_trace(out, r.backtrace, 1, shown);
  if (r.validator_off) {
    out.push_back("INFO: lockdep is turned off.");  // debug_show_all_locks() once !debug_locks
    return out;
  }
  out.push_back("");
  out.push_back("Showing all locks held in the system:");
  for (const thread_held_locks& thread : r.all_held_locks) add_held_locks_of(out, thread, shown);
  out.push_back("");
  out.push_back("=============================================");
  out.push_back("");
  return out;
}

// The report as if no source line were known, so that every frame renders as the kernel's %pS.
report without_source_locations(report r) {
  const auto forget = [](stack_frame& frame) {
    frame.file.clear();
    frame.line = 0;
    frame.inlined.clear();
    frame.in_validator = false;
  };
  forget(r.acquiring.acquired_at);
  forget(r.holding.acquired_at);
  for (lock_description& held : r.held_locks) forget(held.acquired_at);
  for (dependency_step& step : r.chain) std::ranges::for_each(step.trace, forget);
  for (thread_held_locks& thread : r.all_held_locks) {
    for (lock_description& held : thread.locks) forget(held.acquired_at);
  }
  std::ranges::for_each(r.backtrace, forget);
  forget(r.assertion_site);
  return r;
}

}  // namespace

const char* to_string(report_kind kind) {
  switch (kind) {
    case report_kind::circular_dependency:
      return "circular_dependency";
    case report_kind::recursive_locking:
      return "recursive_locking";
    case report_kind::bad_unlock_balance:
      return "bad_unlock_balance";
    case report_kind::held_lock_freed:
      return "held_lock_freed";
    case report_kind::locks_held_at_exit:
      return "locks_held_at_exit";
    case report_kind::lock_depth_overflow:
      return "lock_depth_overflow";
    case report_kind::capacity_exhausted:
      return "capacity_exhausted";
    case report_kind::invalid_subclass:
      return "invalid_subclass";
    case report_kind::assertion_failed:
      return "assertion_failed";
    case report_kind::warning:
      return "warning";
    case report_kind::hung_task:
      return "hung_task";
  }
  return "unknown";
}

std::vector<std::string> report::cycle() const {
  if (kind != report_kind::circular_dependency) return {};
  if (chain.empty()) return {acquiring.class_name, holding.class_name};
  // The chain is stored holding-first; the cycle reads from the acquiring class backwards.
  std::vector<std::string> names;
  names.reserve(chain.size());
  for (auto step = chain.rbegin(); step != chain.rend(); ++step) names.push_back(step->class_name);
  return names;
}

std::vector<std::string> report::kernel_lines() const {
  return kernel_lines(configured_text_options());
}

std::vector<std::string> report::kernel_lines(bool source_locations) const {
  text_options shown = configured_text_options();
  shown.source_locations = source_locations;
  return kernel_lines(shown);
}

std::vector<std::string> report::kernel_lines(const text_options& shown) const {
  if (!shown.source_locations) {
    return without_source_locations(*this).kernel_lines(text_options{});
  }
  switch (kind) {
    case report_kind::circular_dependency:
      return circular_lines(*this, shown);
    case report_kind::recursive_locking:
      return recursive_lines(*this, shown);
    case report_kind::bad_unlock_balance:
      return bad_unlock_lines(*this, shown);
    case report_kind::held_lock_freed:
      return held_lock_freed_lines(*this, shown);
    case report_kind::locks_held_at_exit:
      return locks_held_at_exit_lines(*this, shown);
    case report_kind::lock_depth_overflow:
      return lock_depth_overflow_lines(*this, shown);
    case report_kind::capacity_exhausted:
      return capacity_exhausted_lines(*this, shown);
    case report_kind::invalid_subclass:
      return invalid_subclass_lines(*this, shown);
    case report_kind::assertion_failed:
    case report_kind::warning:
      return assertion_failed_lines(*this, shown);
    case report_kind::hung_task:
      return hung_task_lines(*this, shown);
  }
  return {};
}

std::string report::kernel_text() const {
  return kernel_text(configured_text_options().source_locations);
}

std::string report::kernel_text(bool source_locations) const {
  std::string text;
  for (const std::string& line : kernel_lines(source_locations)) {
    text += line;
    text += '\n';
  }
  return text;
}

}  // namespace lockdep

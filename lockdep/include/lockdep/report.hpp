// Structured validator reports.
//
// Every problem the validator finds becomes a `report` first: plain data that tests assert on and
// that formatters render. `kernel_lines()` renders the text the Linux kernel's lockdep
// prints for the same situation, line for line (without the `[ seconds.micros]` prefix, which
// the `lockdep` spdlog logger adds to each line); frames whose source line is known are shown
// as the kernel's scripts/decode_stacktrace.sh shows them once decoded, with a line for each
// function inlined into them, unless turned off.
//
// Reports own all their data (strings, frames): they stay valid after the locks, classes or
// threads they describe are gone. Copyable and movable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lockdep {

// How a report's text shows its frames. Only the text: the report's data keeps every frame, its
// full path and its inlined functions whatever is chosen here.
struct text_options {
  // Frames whose source line is known as scripts/decode_stacktrace.sh decodes them, with a line
  // per inlined function; false: exactly the kernel's text (`function+0xoff/0xsize [module]`),
  // which ignores the options below.
  bool source_locations = true;
  // Paths under source_root shown relative to it, as decode_stacktrace.sh strips its base
  // path; true, or an empty source_root: paths as the debug information records them.
  bool absolute_paths = false;
  std::string source_root;
  // Runs of two or more C++ standard library frames below the program's first own frame
  // (std::thread's and std::function's plumbing) as one line saying how many; true: each one.
  bool std_frames = false;
};

// A function the compiler inlined into a frame's code, and the line running in it: one entry of
// what `eu-addr2line -i -f` answers for the frame's address.
struct inlined_function {
  std::string function;  // demangled, without parameter list, as stack_frame::function
  std::string file;      // as the debug information records it; empty when unknown
  unsigned line = 0;     // from 1; 0 when unknown

  // `function (file:line)`, or `function` when the line is unknown.
  std::string decoded_text(const text_options& shown = {}) const;
};

// One symbolized code address, printed as the kernel's `%pS`: `function+0xoff/0xsize [module]`.
struct stack_frame {
  std::uintptr_t address = 0;  // the return address (or acquisition ip) itself
  std::string function;        // demangled, without parameter list; empty when unknown
  std::uintptr_t offset = 0;   // address - function start
  std::uintptr_t size = 0;     // function size in bytes; 0 when unknown
  std::string module;          // empty for the main executable, else the shared object's name
  // The source line in `function` of the code at `address` (of the call, for a return
  // address), from the object's DWARF debug information: `file` as it records it (usually an
  // absolute path), `line` from 1. When that code was inlined into `function`, this is the line
  // of the outermost inlined call, the one written in `function` itself (the user's line:
  // where a std::lock_guard was constructed, not a line inside it). Empty and 0 when unknown:
  // no debug information for that object, or code without a line (assembly, compiler-generated
  // code).
  std::string file;
  unsigned line = 0;
  // The functions inlined at `address`, innermost first: the first is running its own line,
  // each of the others its line that calls the one before, and `function` calls the last one at
  // `file`:`line`. Together with the frame itself, the chain `eu-addr2line -i -f` prints. Empty
  // when the code is not inlined, or when the debug information does not say.
  std::vector<inlined_function> inlined;
  // Code of the validator itself: the lock function the program called (the LD_PRELOAD
  // interposer's pthread_mutex_lock, lockdep::mutex::lock), which starts a trace. Its inlined
  // functions are not kept; decoded text shows it by its function alone.
  bool in_validator = false;

  // `function+0xoff/0xsize [module]`; `0x<address> [module]` when the function is unknown.
  std::string text() const;
  // The frame as the kernel's scripts/decode_stacktrace.sh decodes text() when the function and
  // its source line are known: `function (file:line)`, then ` module` (without brackets, as the
  // script prints it). text() otherwise. Inlined functions are not shown: see decoded_lines().
  // The validator's own frame (in_validator): its function alone. Paths as `shown` says.
  std::string decoded_text(const text_options& shown = {}) const;
  // The frame as a trace prints it decoded: one line per inlined function, innermost first,
  // each `function (file:line) (inlined)`, then decoded_text(). Just decoded_text() when
  // nothing was inlined.
  std::vector<std::string> decoded_lines(const text_options& shown = {}) const;
};

using stack_trace = std::vector<stack_frame>;

enum class report_kind {
  circular_dependency,  // WARNING: possible circular locking dependency detected
  recursive_locking,    // WARNING: possible recursive locking detected
  bad_unlock_balance,   // WARNING: bad unlock balance detected!
  held_lock_freed,      // WARNING: held lock freed!
  locks_held_at_exit,   // WARNING: comm/tid still has locks held!
  lock_depth_overflow,  // BUG: MAX_LOCK_DEPTH too low!
  capacity_exhausted,   // BUG: MAX_LOCKDEP_KEYS too low! (and the other tables)
  invalid_subclass,     // BUG: looking up invalid subclass: N
  assertion_failed,     // a failed lockdep_assert_held / _not_held: a kernel WARN splat
  warning,              // other misuse found by instrumented code (report_warning): a WARN splat
  hung_task,            // INFO: task comm:tid blocked for more than N seconds. (hang_timeout)
};

// The report kind as a short stable identifier ("circular_dependency", ...).
const char* to_string(report_kind kind);

// How a lock was (or is being) acquired; the kernel's held_lock.read.
enum class lock_access : std::uint8_t {
  exclusive = 0,         // mutex, spinlock, write side of an rwlock/rwsem
  shared = 1,            // rwsem read side: a waiting writer blocks new readers
  shared_recursive = 2,  // rwlock_t read side: readers may recurse
};

struct thread_identity {
  std::string comm;  // the thread's name (prctl PR_GET_NAME), as the kernel's task comm
  long tid = 0;      // gettid()

  std::string text() const { return comm + "/" + std::to_string(tid); }
};

// Where the name of a class standing for one lock the program gave no name comes from (a lock
// tracked under LD_PRELOAD, a lockdep lock constructed without key or name): delivery names the
// class, before any listener or output sees the report, after the static variable holding the
// lock (`inventory`, `tables[3].lock`), else the program's source line in `first_use`
// (`connection.cpp:23`), else it keeps the name the validator gave it (the lock's address, or
// its construction site).
struct unnamed_lock {
  const void* address = nullptr;  // nullptr: the class has a name of its own
  // The call that initialised the lock (one frame), else the innermost frames of the stack that
  // first locked it, from the lock function; empty when unknown.
  stack_trace first_use;
  // Named by first_use when it is not in static storage (a lock kept apart from its map, as the
  // LD_PRELOAD mode keeps them); false: by its construction site (a lockdep lock), and
  // first_use is empty.
  bool named_by_first_use = false;
};

// One lock as the kernel's print_lock() shows it: instance, class, usage and where it was taken.
struct lock_description {
  const void* instance = nullptr;  // the lock object's address
  std::string class_name;          // printed name, with the kernel's `#N` and `/N` suffixes
  std::string usage;               // usage string with braces, e.g. "{+.+.}"
  stack_frame acquired_at;         // the acquisition (or release) call site
  lock_access access = lock_access::exclusive;
  bool trylock = false;
  unnamed_lock name_source;  // where class_name came from, for an unnamed lock's class
};

// One `-> #N (class){usage}:` block of a circular report: the class and the stack trace that
// recorded the dependency leading to it.
struct dependency_step {
  std::string class_name;
  std::string usage;
  stack_trace trace;
  unnamed_lock name_source;  // as lock_description::name_source
};

// One thread's entry in the hung-task report's `Showing all locks held in the system:`: a
// thread waiting on a lock with its held locks, or a running thread with only their number (as
// the kernel lists a running task: which locks changes while it runs).
struct thread_held_locks {
  thread_identity thread;
  bool waiting = false;
  std::size_t held_count = 0;
  std::vector<lock_description> locks;  // waiting: bottom first, the last the one it waits for
  double waiting_seconds = 0;
};

struct report {
  report_kind kind = report_kind::circular_dependency;
  thread_identity thread;
  int cpu = 0;           // sched_getcpu() when the report was made (the dump_stack `CPU:` field)
  double timestamp = 0;  // seconds since process start, as the kernel's log timestamps

  // The lock being acquired (circular, recursive, depth overflow), released (bad unlock balance:
  // class_name is the lock's name without suffixes, acquired_at the release site) or checked
  // (assertion_failed).
  lock_description acquiring;
  // The held lock it conflicts with: the held lock the new one would depend on (circular), the
  // same-class lock already held (recursive), the held lock inside freed memory (held lock freed).
  lock_description holding;

  // circular_dependency: the existing chain in print order, `#D` (holding's class) first and
  // `#0` (acquiring's class, with the current stack) last. Empty for other kinds.
  std::vector<dependency_step> chain;

  std::vector<lock_description> held_locks;  // the reporting thread's held locks, bottom first
  stack_trace backtrace;                     // `stack backtrace:` / `Call Trace:` frames

  // Kind-specific details.
  const void* freed_from = nullptr;  // held_lock_freed: the freed range [freed_from, freed_to)
  const void* freed_to = nullptr;
  std::string limit_name;    // capacity_exhausted / lock_depth_overflow: e.g. "MAX_LOCKDEP_KEYS"
  std::string limit_option;  // the LOCKDEP_OPTIONS key that raises the limit, e.g. "max_classes"
  std::size_t limit_value = 0;
  unsigned depth = 0;          // lock_depth_overflow: the depth reached
  unsigned subclass = 0;       // invalid_subclass
  std::string assertion;       // assertion_failed: e.g. "lockdep_assert_held(&m)"; warning: text
  stack_frame assertion_site;  // assertion_failed, warning: function = "file:line function"
  // hung_task: `thread` has waited for `acquiring` (the last of `held_locks`) this long, where
  // `backtrace` shows; the hang_timeout in force; and every thread waiting on a lock then.
  double blocked_seconds = 0;
  double hang_timeout_seconds = 0;
  std::vector<thread_held_locks> all_held_locks;
  // hung_task: the validator had turned itself off (after a report), so no held locks are
  // known; the text says `INFO: lockdep is turned off.` instead of listing them, as the kernel.
  bool validator_off = false;

  // A stable identifier for de-duplication: the kind and the class names involved, without
  // addresses, thread ids or timestamps.
  std::string id;

  // circular_dependency: the classes of the `Chain exists of:` line, in its order
  // (acquiring --> ... --> holding). For a two-lock cycle: {acquiring, holding}.
  std::vector<std::string> cycle() const;

  // The kernel's text for this report, one entry per line, without timestamps. Frames whose
  // source line is known are printed decoded, as after the kernel's scripts/decode_stacktrace.sh,
  // unless LOCKDEP_OPTIONS has source_locations=0: a trace's frames with a line per inlined
  // function (stack_frame::decoded_lines()), a lock's `at:` with the line in its function
  // (stack_frame::decoded_text()). Paths and standard library frames as LOCKDEP_OPTIONS says
  // (absolute_paths, source_root, std_frames: see text_options).
  std::vector<std::string> kernel_lines() const;
  // The same with source lines chosen here: false gives exactly the kernel's text.
  std::vector<std::string> kernel_lines(bool source_locations) const;
  // The text as `shown` says (text_options).
  std::vector<std::string> kernel_lines(const text_options& shown) const;
  // kernel_lines() joined with '\n' (and a final newline).
  std::string kernel_text() const;
  std::string kernel_text(bool source_locations) const;
  // The report as one line of JSON (no newline): kind, id, thread, cpu, timestamp, the locks,
  // the cycle and its chain with each dependency's frames, held locks, backtrace, the
  // kind-specific details, and the kernel text. For CI and tools (LOCKDEP_OPTIONS
  // json_log_path writes one such line per report).
  std::string json() const;
  // The same with its kernel_text rendered as `shown` says.
  std::string json(const text_options& shown) const;
};

}  // namespace lockdep

// Validator options, read once from the environment variable LOCKDEP_OPTIONS
// (`key=value:key=value`, as the sanitizers do). Unknown keys and malformed values are reported
// on stderr with their position and otherwise ignored; the program continues.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lockdep {

struct options {
  // Keep validating after a report (each distinct problem is reported once). The kernel's
  // default, and ours, is to turn the validator off after the first report.
  bool keep_going = false;
  // Failed lockdep_assert_held()/_not_held() abort the program instead of only reporting.
  bool abort_on_assert = false;
  // Print each frame whose source line the debug information gives as the kernel's
  // scripts/decode_stacktrace.sh prints it decoded, `function (file:line) module`, instead of
  // `function+0xoff/0xsize [module]`, in a trace after a line `callee (file:line) (inlined)`
  // for each function inlined there. false: exactly the kernel's text. Reports' data (and
  // their JSON) carry the file, line and inlined functions either way.
  bool source_locations = true;
  // Paths in decoded frames: those under source_root relative to it (`src/shop.cpp:12`), as
  // decode_stacktrace.sh strips its base path; absolute_paths=1 shows them as recorded. Not
  // given in LOCKDEP_OPTIONS: the working directory when the options are first read (at start
  // under lockdep-run, at the first lock otherwise).
  bool absolute_paths = false;
  std::string source_root;
  // Show every C++ standard library frame of a trace; by default runs of them below the
  // program's own frames (std::thread's and std::function's plumbing) are one line.
  bool std_frames = false;
  // Where reports go: "stderr" (default), "stdout", or a file path (appended).
  std::string log_path = "stderr";
  // Reports as JSON lines (report::json()), appended to this file as well; empty: none.
  std::string json_log_path;
  // A suppressions file (lockdep/suppressions.hpp): reports it matches are counted, not
  // issued. Empty: none. Read when the validator starts (and at each testing reset).
  std::string suppressions;

  // State dumps (lockdep/state.hpp), written at exit and whenever dump_signal arrives; empty:
  // none. "stderr", "stdout" or a path; `%p` in a path becomes the process id, so that the
  // processes of one program do not overwrite each other's files.
  std::string dump_path;        // /proc/lockdep, /proc/lockdep_chains and /proc/lockdep_stats
  std::string graph_dot_path;   // the dependency graph as Graphviz DOT
  std::string graph_json_path;  // the dependency graph as JSON
  // Hang watchdog: a thread waiting on an instrumented lock longer than this many seconds is
  // reported (the kernel's hung-task report, with every waiting thread's held locks). 0: off.
  double hang_timeout = 0;
  // A signal (number or name, e.g. SIGUSR2) that writes the dumps above while the program runs,
  // for a program that hangs. 0: none. Handled by a thread of the validator's.
  int dump_signal = 0;

  // Table sizes. Running out prints the kernel's `BUG: MAX_... too low!` and turns the
  // validator off; the program continues. Sized for a program with a million live locks, each
  // in a class of its own (as the LD_PRELOAD mode makes them): the tables are reserved, not
  // allocated, so memory follows what a program uses, not these limits.
  std::size_t max_lock_depth = 48;               // held locks per thread (MAX_LOCK_DEPTH)
  std::size_t max_classes = 1 << 20;             // lock classes (MAX_LOCKDEP_KEYS)
  std::size_t max_dependencies = 1 << 21;        // direct dependencies (MAX_LOCKDEP_ENTRIES)
  std::size_t max_chains = 1 << 21;              // cached lock chains (MAX_LOCKDEP_CHAINS)
  std::size_t max_chain_hlocks = 5 << 21;        // classes in chains (MAX_LOCKDEP_CHAIN_HLOCKS)
  std::size_t max_stack_entries = 1 << 22;       // stored stack frames (MAX_STACK_TRACE_ENTRIES)
  std::size_t stack_depth = 32;                  // frames kept per stack trace

  // The hard ceiling for max_lock_depth: per-thread storage is sized by it.
  static constexpr std::size_t lock_depth_ceiling = 1024;
};

struct option_error {
  std::size_t position;  // byte offset of the offending `key=value` in the text
  std::string message;
};

// Parses `key=value:key=value` onto `into` (keys not mentioned keep their value). Returns the
// errors; valid entries are applied even when others are malformed.
std::vector<option_error> parse_options(std::string_view text, options& into);

// Makes every relative path option (log_path, json_log_path, suppressions, the dump paths)
// absolute under `directory`, and an unset source_root `directory` itself: a program that
// changes its directory later (a daemon's chdir("/"), a child's) still writes and reads where
// the user meant. "stderr" and "stdout" stay as they are.
void anchor_paths(options& configured, const std::string& directory);

// The options in force (LOCKDEP_OPTIONS, read on first use).
const options& current_options();

}  // namespace lockdep

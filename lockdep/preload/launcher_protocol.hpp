// How lockdep-run learns that a report was printed in the program it runs.
//
// The launcher creates an empty file and names it in LOCKDEP_RUN_REPORT_FILE. In every process
// of the run (the program and whatever it forks or executes, as they inherit the environment and
// LD_PRELOAD), the preload library appends "<pid>\n" to that file when the validator prints its
// first report line in that process. After the program exits, a non-empty file means "reported".
//
// Why a file and not the exit status: the preload cannot see the program's exit status from
// every exit path (return from main, exit(), _exit(), a fatal signal, a hang killed by timeout),
// and reports printed late (thread exit checks, library destructors) come after any handler it
// could register. A file written at report time is seen whatever happens next, costs nothing
// until a report, and survives the program closing its file descriptors.
#pragma once

namespace lockdep::preload {

inline constexpr char report_file_variable[] = "LOCKDEP_RUN_REPORT_FILE";

}  // namespace lockdep::preload

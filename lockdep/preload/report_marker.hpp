// The preload's side of the launcher protocol (launcher_protocol.hpp): a sink on the validator's
// report logger that appends this process's pid to $LOCKDEP_RUN_REPORT_FILE on the first report
// line the process prints. Without the variable (LD_PRELOAD used by hand), nothing is installed.
//
// Thread-safety: install once, from the preload's initialisation, before any report. The sink
// itself may be called from any thread; it marks at most once per process (again in a forked
// child, after report_marker_after_fork_child()).
#pragma once

namespace lockdep::preload {

void install_report_marker();
void report_marker_after_fork_child();

}  // namespace lockdep::preload

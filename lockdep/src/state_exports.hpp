// The state dumps LOCKDEP_OPTIONS asks for (dump_path, graph_dot_path, graph_json_path),
// written at exit and on dump_signal. See state_exports.cpp.
#pragma once

#include "lockdep/options.hpp"

namespace lockdep::detail {

bool wants_state_exports(const options& configured);
// Writes every dump `configured` names, from a fresh snapshot. Thread-safe.
void write_state_exports(const options& configured);
// Once, when the validator is created: registers the exit hook and the dump_signal thread.
void install_state_exports(const options& configured);
// In a fork child (its atfork handler): a pipe and a thread of its own for dump_signal, if the
// parent had them. The pipe is shared with the parent, whose thread would answer the child's
// signal with the parent's state, and the child has no thread (fork copies only the caller).
// The child's thread is started at the fork: a signal cannot start one when it comes.
void restart_dump_thread_in_child();

}  // namespace lockdep::detail

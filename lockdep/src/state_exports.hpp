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

}  // namespace lockdep::detail

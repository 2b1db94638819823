// The preload's side of two validators in one process (lockdep/src/other_validator.hpp): while
// a program's own validator works on a thread, that thread's pthread calls are forwarded, as
// inside the preload's own validator.
#include "lock_annotations.hpp"
#include "reentrancy_guard.hpp"

extern "C" {

LOCKDEP_PRELOAD_EXPORT void lockdep_preload_enter_other_validator() noexcept {
  ++lockdep::preload::inside_lockdep_depth;
}

LOCKDEP_PRELOAD_EXPORT void lockdep_preload_leave_other_validator() noexcept {
  --lockdep::preload::inside_lockdep_depth;
}

}  // extern "C"

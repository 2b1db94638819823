// Two validators in one process: a program linked with the validating library, run under
// lockdep-run. The LD_PRELOAD library's validator sees every pthread call of the process,
// those the program's own validator makes while it works included (libunwind's lock while it
// captures a stack, spdlog's while it prints, the C++ runtime's): validating them there would
// recurse into libunwind with its lock held and hang. So the program's validator says when it
// works, and the preload only forwards that thread's calls meanwhile, as it does for its own.
// The same around the real lock calls of the library's lock types (lock_types.cpp): their
// locks are the program validator's, so a problem among them is reported once, not by both.
//
// The preload exports the two functions; the program refers to them weakly, so without the
// preload they are null and cost one test. The preload's own copy of the validator is built
// with LOCKDEP_IN_PRELOAD and never calls them (its reentrancy guard does the same job).
#pragma once

extern "C" {
void lockdep_preload_enter_other_validator() noexcept __attribute__((weak));
void lockdep_preload_leave_other_validator() noexcept __attribute__((weak));
}

namespace lockdep::detail {

// Whether the LD_PRELOAD validator is in the process.
inline bool other_validator_present() {
#if !defined(LOCKDEP_IN_PRELOAD)
  return lockdep_preload_enter_other_validator != nullptr;
#else
  return false;
#endif
}

inline void enter_other_validator_work() {
#if !defined(LOCKDEP_IN_PRELOAD)
  if (lockdep_preload_enter_other_validator != nullptr) lockdep_preload_enter_other_validator();
#endif
}

inline void leave_other_validator_work() {
#if !defined(LOCKDEP_IN_PRELOAD)
  if (lockdep_preload_leave_other_validator != nullptr) lockdep_preload_leave_other_validator();
#endif
}

}  // namespace lockdep::detail

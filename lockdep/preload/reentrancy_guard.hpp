// The interposer's reentrancy guard: a per-thread "inside lockdep" depth.
//
// Everything the validator does (its graph lock and other std::mutexes, spdlog's sink mutexes,
// libunwind, the loader through dladdr) may call pthread functions, and in an LD_PRELOAD process
// those calls land in our interposers. While the current thread is inside lockdep (the depth is
// non-zero) every interposer forwards straight to the real function: no table lookup, no
// validation, so nothing recurses or deadlocks. Every call from the interposers into lockdep or
// into the preload's tables runs inside a lockdep_scope.
//
// The variable uses the initial-exec TLS model: the preload library is loaded with the program,
// so its TLS is static and an access is one instruction, never a call that could allocate.
//
// Thread-safety: per-thread state only. lockdep_scope is not copyable or movable.
#pragma once

#include <atomic>

namespace lockdep::preload {

inline thread_local unsigned inside_lockdep_depth [[gnu::tls_model("initial-exec")]] = 0;

// Set once the preload's constructor has run (the validator's own static objects exist and the
// options are read). Before that, the interposers only forward.
inline std::atomic<bool> preload_ready{false};

// True when an interposer must only forward to the real function.
inline bool forward_only() {
  return inside_lockdep_depth != 0 || !preload_ready.load(std::memory_order_acquire);
}

class lockdep_scope {
 public:
  lockdep_scope() { ++inside_lockdep_depth; }
  ~lockdep_scope() { --inside_lockdep_depth; }
  lockdep_scope(const lockdep_scope&) = delete;
  lockdep_scope& operator=(const lockdep_scope&) = delete;
};

}  // namespace lockdep::preload

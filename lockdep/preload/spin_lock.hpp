// spin_lock: the preload's own, uninstrumented mutual exclusion.
//
// The side tables of the interposer cannot use pthread mutexes: every pthread call made by the
// program passes through them, so a pthread lock would recurse into the interposer. A test-and-
// set flag on std::atomic needs no pthread call, no allocation and no initialisation (a
// zero-initialised object is unlocked), so it works before constructors run and after fork.
// Critical sections guarded by it are a few dozen instructions; waiters spin, then yield.
//
// Thread-safety: lock()/unlock() from any thread; not recursive. Not copyable or movable.
#pragma once

#include <sched.h>

#include <atomic>

namespace lockdep::preload {

class spin_lock {
 public:
  constexpr spin_lock() = default;
  spin_lock(const spin_lock&) = delete;
  spin_lock& operator=(const spin_lock&) = delete;

  void lock() {
    for (unsigned attempt = 0; locked_.exchange(true, std::memory_order_acquire); ++attempt) {
      while (locked_.load(std::memory_order_relaxed)) {
        // Yield after a short spin: the holder may be preempted on a machine with few CPUs.
        if (++attempt > 64) sched_yield();
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
    }
  }
  void unlock() {
    locked_.store(false, std::memory_order_release);
  }

 private:
  std::atomic<bool> locked_{false};
};

// Holds a spin_lock for a scope. Not copyable or movable.
class spin_guard {
 public:
  explicit spin_guard(spin_lock& lock) : lock_(lock) { lock_.lock(); }
  ~spin_guard() { lock_.unlock(); }
  spin_guard(const spin_guard&) = delete;
  spin_guard& operator=(const spin_guard&) = delete;

 private:
  spin_lock& lock_;
};

}  // namespace lockdep::preload

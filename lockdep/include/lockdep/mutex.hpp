// Instrumented mutexes: drop-in replacements for std::mutex, std::recursive_mutex and
// std::timed_mutex that validate every acquisition before it can block.
//
// Each meets the standard Lockable requirements (timed_mutex: TimedLockable), so
// std::lock_guard, std::unique_lock, std::scoped_lock and std::condition_variable_any work.
// lock() validates first and then blocks, so a deadlock is reported before it happens.
// try_lock() is validated as a trylock (no dependency into the lock) after it succeeds.
// unlock() of a mutex the thread does not hold is reported (bad unlock balance) and skipped.
// Destroying a held mutex is reported (held lock freed). Not copyable or movable.
//
// lockdep::mutex and lockdep::timed_mutex are glibc mutexes underneath, and use glibc's own
// record of their owner where the validator cannot tell (validation off): they add only the
// lock map to the real mutex's size.
#pragma once

#include "lockdep/config.hpp"
#include "lockdep/source_location.hpp"

#if !LOCKDEP_ENABLED
#include "lockdep/unvalidated.hpp"
#else

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "lockdep/instrumented_lock.hpp"

namespace lockdep {

class LOCKDEP_CAPABILITY("mutex") mutex : public instrumented_lock {
 public:
  // Declared here, not inherited: the default argument must name the user's line, not ours.
  constexpr mutex(lockdep::source_location where = lockdep::source_location::current())
      : instrumented_lock(where) {}
  using instrumented_lock::instrumented_lock;
  // Reports (held lock freed) if the calling thread holds it, with the whole object's range.
  ~mutex();
  using native_handle_type = std::mutex::native_handle_type;

  void lock() LOCKDEP_ACQUIRE();
  // lock() with a subclass, for nesting two locks of one class in a known order
  // (the kernel's mutex_lock_nested).
  void lock_nested(unsigned subclass) LOCKDEP_ACQUIRE();
  // lock() on behalf of a wrapper: `ip` is the wrapper's caller (LOCKDEP_RET_IP in the wrapper),
  // which reports show as the acquisition site, as the kernel's _RET_IP_.
  void lock_from(const void* ip) LOCKDEP_ACQUIRE();
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true);
  void unlock() LOCKDEP_RELEASE();
  native_handle_type native_handle() { return real_.native_handle(); }

 private:
  std::mutex real_;
};

// Re-locking by the owning thread is allowed and not validated again; the class is held once.
class LOCKDEP_CAPABILITY("mutex") recursive_mutex : public instrumented_lock {
 public:
  // Declared here, not inherited: the default argument must name the user's line, not ours.
  recursive_mutex(lockdep::source_location where = lockdep::source_location::current())
      : instrumented_lock(where) {}
  using instrumented_lock::instrumented_lock;
  // Reports (held lock freed) if the calling thread holds it, with the whole object's range.
  ~recursive_mutex();

  void lock() LOCKDEP_ACQUIRE();
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true);
  void unlock() LOCKDEP_RELEASE();

 private:
  bool owned_by_caller() const {
    return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }
  std::recursive_mutex real_;
  std::atomic<std::thread::id> owner_{};
  unsigned depth_ = 0;  // touched only by the owner
};

// A timed acquisition gives up rather than deadlocking forever, so try_lock_for/until are
// validated as trylocks; lock() is validated as a blocking acquisition.
class LOCKDEP_CAPABILITY("mutex") timed_mutex : public instrumented_lock {
 public:
  // Declared here, not inherited: the default argument must name the user's line, not ours.
  timed_mutex(lockdep::source_location where = lockdep::source_location::current())
      : instrumented_lock(where) {}
  using instrumented_lock::instrumented_lock;
  // Reports (held lock freed) if the calling thread holds it, with the whole object's range.
  ~timed_mutex();

  void lock() LOCKDEP_ACQUIRE();
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true);
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_lock_until_steady(std::chrono::steady_clock::now() + timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return try_lock_until_steady(std::chrono::steady_clock::now() + (deadline - Clock::now()));
  }
  void unlock() LOCKDEP_RELEASE();

 private:
  bool try_lock_until_steady(std::chrono::steady_clock::time_point deadline);
  std::timed_mutex real_;
};

}  // namespace lockdep

#endif  // LOCKDEP_ENABLED

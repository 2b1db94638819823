// The part every instrumented lock type shares: its lock_map and the ways to choose its class.
//
//   T lock;                              its own class, named after where it was constructed
//   T lock{"name"};                      its own class, with that name
//   T lock{LOCKDEP_CLASS("&x->lock")};   the class of a static key shared by this site
//   T lock{key};                         the class of an explicit (possibly dynamic) key
#pragma once

#include "lockdep/config.hpp"
#include "lockdep/source_location.hpp"

#if !LOCKDEP_ENABLED
#include "lockdep/unvalidated.hpp"
#else

#include <atomic>
#include <cstdint>

#include "lockdep/lock_class_key.hpp"
#include "lockdep/lock_map.hpp"

namespace lockdep {

// The thread holding a lock exclusively. unlock() lets only that thread unlock for real: the
// validator reports a bad unlock while it runs, and this check still holds after it turned
// itself off, so misuse never reaches the real lock. One relaxed store per lock and unlock.
class exclusive_owner {
 public:
  void take() { owner_.store(current_thread(), std::memory_order_relaxed); }
  bool held_by_caller() const {
    return owner_.load(std::memory_order_relaxed) == current_thread();
  }
  void forget() { owner_.store(0, std::memory_order_relaxed); }
  // True (and forgets the owner) if the calling thread holds the lock.
  bool release_by_caller() {
    if (!held_by_caller()) return false;
    forget();
    return true;
  }

 private:
  // The thread pointer is unique per live thread and one instruction to read (pthread_self()
  // is a call into libc).
  static std::uintptr_t current_thread() {
    return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
  }
  std::atomic<std::uintptr_t> owner_{0};
};

class instrumented_lock {
 public:
  // constexpr so that a global lock is constant-initialized, usable from any static
  // initializer.
  constexpr instrumented_lock(lockdep::source_location where = lockdep::source_location::current())
      : map_(where) {}
  constexpr explicit instrumented_lock(
      const char* name, lockdep::source_location where = lockdep::source_location::current())
      : map_(name, where) {}
  constexpr explicit instrumented_lock(lock_class_key& key, unsigned subclass = 0)
      : map_(key, subclass) {}
  instrumented_lock(const instrumented_lock&) = delete;
  instrumented_lock& operator=(const instrumented_lock&) = delete;

  lock_map& lockdep_map() { return map_; }
  const lock_map& lockdep_map() const { return map_; }
  // Moves the unheld lock to the class of `key` (lockdep_set_class_and_subclass).
  void set_class(lock_class_key& key, unsigned subclass = 0) { map_.set_class(key, subclass); }

 protected:
  ~instrumented_lock() = default;
  lock_map map_;
};

}  // namespace lockdep

#endif  // LOCKDEP_ENABLED

// The whole public API with validation compiled out (LOCKDEP_ENABLED=0): what a release build
// of a program written against lockdep gets.
//
// Lock types are the standard ones with the same constructors as the validated types and
// exactly the standard type's size (a test checks it); annotations, pseudo-locks and keys do
// nothing. Everything lives in the inline namespace lockdep::unvalidated, so code compiled
// with and without validation can be linked into one program without clashing.
//
// Included by the public headers; do not include it directly.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>

#include "lockdep/config.hpp"
#include "lockdep/report.hpp"

#define LOCKDEP_RET_IP (__builtin_return_address(0))
#define LOCKDEP_CLASS(name) (::lockdep::unvalidated::no_key)
#define LOCKDEP_INIT(lock_ptr) ((void)(lock_ptr))
#define LOCKDEP_ASSERT_HELD(lock) ((void)0)
#define LOCKDEP_ASSERT_NOT_HELD(lock) ((void)0)

namespace lockdep {
inline namespace unvalidated {

inline constexpr unsigned max_subclasses = 8;

// Accepts whatever the validated constructors accept (a name, a key, a source location).
struct ignored_argument {
  template <class T>
  constexpr ignored_argument(const T&) {}
};

class lock_class_key {
 public:
  constexpr explicit lock_class_key(const char* = nullptr) {}
  lock_class_key(const lock_class_key&) = delete;
  lock_class_key& operator=(const lock_class_key&) = delete;
  constexpr const char* name() const { return nullptr; }
};
using dynamic_lock_class_key = lock_class_key;
inline lock_class_key no_key;
inline void forget_lock_class_key(const void*) {}

class lock_map {
 public:
  constexpr lock_map() = default;
  constexpr explicit lock_map(ignored_argument) {}
  constexpr lock_map(ignored_argument, ignored_argument) {}
  lock_map(const lock_map&) = delete;
  lock_map& operator=(const lock_map&) = delete;
  void set_class(lock_class_key&, unsigned = 0) {}
  void acquire(unsigned = 0) {}
  void acquire_read() {}
  bool try_acquire() { return true; }
  void release() {}
  void lock() {}
  void unlock() {}
};

struct acquire_request {
  unsigned subclass = 0;
  lock_access access = lock_access::exclusive;
  bool trylock = false;
  bool check = true;
};
enum class held_state { not_held, held, unknown };

inline void lock_acquire(lock_map&, acquire_request, const void*) {}
inline bool lock_release(lock_map&, const void*) {
  return true;
}
inline void might_lock(lock_map&, lock_access = lock_access::exclusive, const void* = nullptr) {}
inline held_state lock_held_state(const lock_map&) {
  return held_state::unknown;
}
inline held_state lock_held_state(const lock_map&, lock_access) {
  return held_state::unknown;
}
inline bool lock_is_held(const lock_map&) {
  return true;
}
inline void lock_set_class(lock_map&, lock_class_key&, unsigned, const void*) {}
inline void lock_set_subclass(lock_map&, unsigned, const void*) {}
inline void check_no_locks_freed(const void*, std::size_t) {}
inline void check_no_locks_freed(std::span<const lock_map* const>, const void*, std::size_t,
                                 const void*) {}
inline void check_no_locks_held() {}
inline void assert_held(const lock_map&, const char*) {}
inline void assert_not_held(const lock_map&, const char*) {}
inline void report_warning(const std::string&, const void*) {}
inline bool validation_enabled() {
  return false;
}
inline std::size_t report_count() {
  return 0;
}

class validation_off_scope {
 public:
  validation_off_scope() = default;
  validation_off_scope(const validation_off_scope&) = delete;
  validation_off_scope& operator=(const validation_off_scope&) = delete;
};

// The pieces every lock type shares: a do-nothing lock_map for annotations.
class instrumented_lock {
 public:
  lock_map& lockdep_map() const {
    static lock_map none;
    return none;
  }
  void set_class(lock_class_key&, unsigned = 0) {}
};

inline lock_map& map_of(lock_map& map) {
  return map;
}
template <typename Lock>
lock_map& map_of(Lock& lock) {
  return lock.lockdep_map();
}

class LOCKDEP_CAPABILITY("mutex") mutex : public std::mutex, public instrumented_lock {
 public:
  constexpr mutex() = default;
  constexpr explicit mutex(ignored_argument) {}
  constexpr mutex(ignored_argument, ignored_argument) {}
  void lock() LOCKDEP_ACQUIRE() { std::mutex::lock(); }
  void lock_nested(unsigned) LOCKDEP_ACQUIRE() { std::mutex::lock(); }
  void lock_from(const void*) LOCKDEP_ACQUIRE() { std::mutex::lock(); }
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true) { return std::mutex::try_lock(); }
  void unlock() LOCKDEP_RELEASE() { std::mutex::unlock(); }
};

class LOCKDEP_CAPABILITY("mutex") recursive_mutex : public std::recursive_mutex,
                                                    public instrumented_lock {
 public:
  recursive_mutex() = default;
  explicit recursive_mutex(ignored_argument) {}
  recursive_mutex(ignored_argument, ignored_argument) {}
  void lock() LOCKDEP_ACQUIRE() { std::recursive_mutex::lock(); }
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true) { return std::recursive_mutex::try_lock(); }
  void unlock() LOCKDEP_RELEASE() { std::recursive_mutex::unlock(); }
};

class LOCKDEP_CAPABILITY("mutex") timed_mutex : public std::timed_mutex, public instrumented_lock {
 public:
  timed_mutex() = default;
  explicit timed_mutex(ignored_argument) {}
  timed_mutex(ignored_argument, ignored_argument) {}
  void lock() LOCKDEP_ACQUIRE() { std::timed_mutex::lock(); }
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true) { return std::timed_mutex::try_lock(); }
  void unlock() LOCKDEP_RELEASE() { std::timed_mutex::unlock(); }
};

class LOCKDEP_CAPABILITY("mutex") shared_mutex : public std::shared_mutex,
                                                 public instrumented_lock {
 public:
  shared_mutex() = default;
  explicit shared_mutex(ignored_argument) {}
  shared_mutex(ignored_argument, ignored_argument) {}
  void lock() LOCKDEP_ACQUIRE() { std::shared_mutex::lock(); }
  void lock_nested(unsigned) LOCKDEP_ACQUIRE() { std::shared_mutex::lock(); }
  void lock_from(const void*) LOCKDEP_ACQUIRE() { std::shared_mutex::lock(); }
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true) { return std::shared_mutex::try_lock(); }
  void unlock() LOCKDEP_RELEASE() { std::shared_mutex::unlock(); }
  void lock_shared() LOCKDEP_ACQUIRE_SHARED() { std::shared_mutex::lock_shared(); }
  void lock_shared_nested(unsigned) LOCKDEP_ACQUIRE_SHARED() { std::shared_mutex::lock_shared(); }
  void lock_shared_from(const void*) LOCKDEP_ACQUIRE_SHARED() { std::shared_mutex::lock_shared(); }
  bool try_lock_shared() LOCKDEP_TRY_ACQUIRE_SHARED(true) {
    return std::shared_mutex::try_lock_shared();
  }
  bool try_lock_shared_from(const void*) LOCKDEP_TRY_ACQUIRE_SHARED(true) {
    return std::shared_mutex::try_lock_shared();
  }
  void unlock_shared() LOCKDEP_RELEASE_SHARED() { std::shared_mutex::unlock_shared(); }
};

// Readers may recurse: a reader-preferring pthread rwlock, as the validated type uses.
class LOCKDEP_CAPABILITY("mutex") rwlock : public instrumented_lock {
 public:
  rwlock() { initialize(); }
  explicit rwlock(ignored_argument) { initialize(); }
  rwlock(ignored_argument, ignored_argument) { initialize(); }
  rwlock(const rwlock&) = delete;
  rwlock& operator=(const rwlock&) = delete;
  ~rwlock() { pthread_rwlock_destroy(&real_); }
  void lock() LOCKDEP_ACQUIRE() { pthread_rwlock_wrlock(&real_); }
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true) { return pthread_rwlock_trywrlock(&real_) == 0; }
  void unlock() LOCKDEP_RELEASE() { pthread_rwlock_unlock(&real_); }
  void lock_shared() LOCKDEP_ACQUIRE_SHARED() { pthread_rwlock_rdlock(&real_); }
  bool try_lock_shared() LOCKDEP_TRY_ACQUIRE_SHARED(true) {
    return pthread_rwlock_tryrdlock(&real_) == 0;
  }
  void unlock_shared() LOCKDEP_RELEASE_SHARED() { pthread_rwlock_unlock(&real_); }

 private:
  void initialize() {
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_READER_NP);
    pthread_rwlock_init(&real_, &attributes);
    pthread_rwlockattr_destroy(&attributes);
  }
  pthread_rwlock_t real_;
};

class LOCKDEP_CAPABILITY("mutex") spinlock : public instrumented_lock {
 public:
  constexpr spinlock() = default;
  constexpr explicit spinlock(ignored_argument) {}
  constexpr spinlock(ignored_argument, ignored_argument) {}
  spinlock(const spinlock&) = delete;
  spinlock& operator=(const spinlock&) = delete;
  void lock() LOCKDEP_ACQUIRE() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
  }
  void lock_nested(unsigned) LOCKDEP_ACQUIRE() { lock(); }
  void lock_from(const void*) LOCKDEP_ACQUIRE() { lock(); }
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true) {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() LOCKDEP_RELEASE() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace unvalidated
}  // namespace lockdep

// Instrumented reader/writer locks, SharedLockable (std::shared_lock works).
//
// shared_mutex: the kernel's rw_semaphore. Readers are NOT recursive: a waiting writer blocks
//   new readers, so read-locking twice (or read A / read B against write B / write A) can
//   deadlock and is reported.
// rwlock: the kernel's rwlock_t with recursive readers. Readers never wait for writers that are
//   only waiting (glibc's reader-preferring rwlock), so a reader may re-enter and read-read
//   cycles are not reported, while read/write inversions still are.
//
// Validation, unlock checks and destruction behave as for lockdep::mutex. Not copyable or
// movable.
#pragma once

#include "lockdep/config.hpp"
#include "lockdep/source_location.hpp"

#if !LOCKDEP_ENABLED
#include "lockdep/unvalidated.hpp"
#else

#include <pthread.h>

#include <shared_mutex>

#include "lockdep/instrumented_lock.hpp"

namespace lockdep {

class LOCKDEP_CAPABILITY("mutex") shared_mutex : public instrumented_lock {
 public:
  // Declared here, not inherited: the default argument must name the user's line, not ours.
  shared_mutex(lockdep::source_location where = lockdep::source_location::current())
      : instrumented_lock(where) {}
  using instrumented_lock::instrumented_lock;
  // Reports (held lock freed) if the calling thread holds it, with the whole object's range.
  ~shared_mutex();

  void lock() LOCKDEP_ACQUIRE();
  void lock_nested(unsigned subclass) LOCKDEP_ACQUIRE();
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true);
  void unlock() LOCKDEP_RELEASE();
  void lock_shared() LOCKDEP_ACQUIRE_SHARED();
  void lock_shared_nested(unsigned subclass) LOCKDEP_ACQUIRE_SHARED();
  bool try_lock_shared() LOCKDEP_TRY_ACQUIRE_SHARED(true);
  void unlock_shared() LOCKDEP_RELEASE_SHARED();
  // On behalf of a wrapper whose caller is `ip` (see lockdep::mutex::lock_from).
  void lock_from(const void* ip) LOCKDEP_ACQUIRE();
  void lock_shared_from(const void* ip) LOCKDEP_ACQUIRE_SHARED();
  bool try_lock_shared_from(const void* ip) LOCKDEP_TRY_ACQUIRE_SHARED(true);

 private:
  std::shared_mutex real_;
  exclusive_owner owner_;  // the write side; readers are not tracked
};

class LOCKDEP_CAPABILITY("mutex") rwlock : public instrumented_lock {
 public:
  rwlock(lockdep::source_location where = lockdep::source_location::current());
  explicit rwlock(const char* name,
                  lockdep::source_location where = lockdep::source_location::current());
  explicit rwlock(lock_class_key& key, unsigned subclass = 0);
  ~rwlock();

  void lock() LOCKDEP_ACQUIRE();
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true);
  void unlock() LOCKDEP_RELEASE();
  void lock_shared() LOCKDEP_ACQUIRE_SHARED();
  bool try_lock_shared() LOCKDEP_TRY_ACQUIRE_SHARED(true);
  void unlock_shared() LOCKDEP_RELEASE_SHARED();

 private:
  void initialize();
  pthread_rwlock_t real_;
  exclusive_owner owner_;  // the write side; readers are not tracked
};

}  // namespace lockdep

#endif  // LOCKDEP_ENABLED

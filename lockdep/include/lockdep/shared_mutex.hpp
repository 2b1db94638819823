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

#include <pthread.h>

#include <shared_mutex>

#include "lockdep/instrumented_lock.hpp"

namespace lockdep {

class shared_mutex : public instrumented_lock {
 public:
  // Declared here, not inherited: the default argument must name the user's line, not ours.
  shared_mutex(std::source_location where = std::source_location::current())
      : instrumented_lock(where) {}
  using instrumented_lock::instrumented_lock;

  void lock();
  void lock_nested(unsigned subclass);
  bool try_lock();
  void unlock();
  void lock_shared();
  void lock_shared_nested(unsigned subclass);
  bool try_lock_shared();
  void unlock_shared();
  // On behalf of a wrapper whose caller is `ip` (see lockdep::mutex::lock_from).
  void lock_from(const void* ip);
  void lock_shared_from(const void* ip);
  bool try_lock_shared_from(const void* ip);

 private:
  std::shared_mutex real_;
};

class rwlock : public instrumented_lock {
 public:
  rwlock(std::source_location where = std::source_location::current());
  explicit rwlock(const char* name, std::source_location where = std::source_location::current());
  explicit rwlock(lock_class_key& key, unsigned subclass = 0);
  ~rwlock();

  void lock();
  bool try_lock();
  void unlock();
  void lock_shared();
  bool try_lock_shared();
  void unlock_shared();

 private:
  void initialize();
  pthread_rwlock_t real_;
};

}  // namespace lockdep

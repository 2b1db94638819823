// pthread_spin_*: the interposers for spinlocks. A pthread_spinlock_t is a bare int with no type
// or owner, so every spinlock is a plain exclusive lock: validated before pthread_spin_lock
// spins (a spinning deadlock is reported before it burns a CPU forever), recorded as a trylock
// after pthread_spin_trylock succeeds.
#include <pthread.h>

#include "lock_annotations.hpp"
#include "lockdep/validator.hpp"
#include "real_functions.hpp"
#include "reentrancy_guard.hpp"

using lockdep::lock_access;
using lockdep::lock_map;
using namespace lockdep::preload;

namespace {

// The table's key for a spinlock (pthread_spinlock_t is a volatile int).
const void* object_of(pthread_spinlock_t* lock) {
  return const_cast<const int*>(lock);
}

}  // namespace

extern "C" {

LOCKDEP_PRELOAD_EXPORT int pthread_spin_init(pthread_spinlock_t* lock, int shared) noexcept {
  if (!forward_only()) annotate_init(object_of(lock), sizeof *lock, LOCKDEP_RET_IP);
  return real().spin_init(lock, shared);
}

LOCKDEP_PRELOAD_EXPORT int pthread_spin_destroy(pthread_spinlock_t* lock) noexcept {
  if (forward_only()) return real().spin_destroy(lock);
  annotate_destroy_begin(object_of(lock), sizeof *lock, LOCKDEP_RET_IP);
  int result = real().spin_destroy(lock);
  if (result == 0) annotate_destroy_end(object_of(lock));
  return result;
}

LOCKDEP_PRELOAD_EXPORT int pthread_spin_lock(pthread_spinlock_t* lock) noexcept {
  if (forward_only()) return real().spin_lock(lock);
  const void* ip = LOCKDEP_RET_IP;
  lock_map* map = map_for(object_of(lock));
  if (map != nullptr) annotate_acquire(*map, lock_access::exclusive, false, ip);
  int result = real().spin_lock(lock);
  if (map != nullptr && result != 0) annotate_release(*map, ip);
  return result;
}

LOCKDEP_PRELOAD_EXPORT int pthread_spin_trylock(pthread_spinlock_t* lock) noexcept {
  if (forward_only()) return real().spin_trylock(lock);
  int result = real().spin_trylock(lock);
  if (result != 0) return result;
  if (lock_map* map = map_for(object_of(lock))) {
    annotate_acquire(*map, lock_access::exclusive, true, LOCKDEP_RET_IP);
  }
  return result;
}

LOCKDEP_PRELOAD_EXPORT int pthread_spin_unlock(pthread_spinlock_t* lock) noexcept {
  if (forward_only()) return real().spin_unlock(lock);
  if (lock_map* map = map_for(object_of(lock))) {
    annotate_release(*map, LOCKDEP_RET_IP);
  }
  return real().spin_unlock(lock);
}

}  // extern "C"

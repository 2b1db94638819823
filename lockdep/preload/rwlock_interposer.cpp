// pthread_rwlock_*: the interposers for reader-writer locks (std::shared_mutex and
// std::shared_timed_mutex reach them too).
//
// Write locks are exclusive. Read locks depend on the lock's preference, read from the lock
// (glibc keeps it in __data.__flags): glibc's default, reader-preferring, lets a reader in while
// a writer waits, so a thread may take the read side recursively and a read/read inversion
// cannot deadlock: lock_access::shared_recursive, the kernel's rwlock_t readers. Only
// PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP makes new readers wait behind a waiting writer:
// lock_access::shared, the kernel's rw_semaphore readers. (glibc treats PREFER_WRITER_NP as
// reader-preferring, so it is too.)
//
// rdlock/wrlock are validated before the real call; try/timed/clock variants are recorded as
// trylocks once they succeed; a failed real call (EDEADLK) undoes the annotation. unlock releases
// whichever side the thread holds.
#include <errno.h>
#include <pthread.h>

#include "hang_watchdog.hpp"
#include "lock_annotations.hpp"
#include "lockdep/validator.hpp"
#include "real_functions.hpp"
#include "reentrancy_guard.hpp"

namespace lockdep::preload {
namespace {

lock_access read_access(const pthread_rwlock_t* rwlock) {
  return __atomic_load_n(&rwlock->__data.__flags, __ATOMIC_RELAXED) ==
                 PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
             ? lock_access::shared
             : lock_access::shared_recursive;
}

template <typename Call>
int validate_then_lock(pthread_rwlock_t* rwlock, lock_access access, const void* ip, Call call) {
  lock_map* map = map_for(rwlock);
  if (map != nullptr) annotate_acquire(*map, access, false, ip);
  int result = call();
  if (map != nullptr && result != 0) annotate_release(*map, ip);
  return result;
}

template <typename Call>
int lock_then_annotate_as_trylock(pthread_rwlock_t* rwlock, lock_access access, const void* ip,
                                  Call call) {
  int result = call();
  if (result != 0) return result;
  if (lock_map* map = map_for(rwlock)) annotate_acquire(*map, access, true, ip);
  return result;
}

}  // namespace
}  // namespace lockdep::preload

using lockdep::lock_access;
using namespace lockdep::preload;

extern "C" {

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_init(pthread_rwlock_t* rwlock,
                                               const pthread_rwlockattr_t* attributes) noexcept {
  if (!forward_only()) annotate_init(rwlock, sizeof *rwlock, LOCKDEP_RET_IP);
  return real().rwlock_init(rwlock, attributes);
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t* rwlock) noexcept {
  if (forward_only()) return real().rwlock_destroy(rwlock);
  annotate_destroy_begin(rwlock, sizeof *rwlock, LOCKDEP_RET_IP);
  int result = real().rwlock_destroy(rwlock);
  if (result == 0) annotate_destroy_end(rwlock);
  return result;
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t* rwlock) noexcept {
  if (forward_only()) return real().rwlock_rdlock(rwlock);
  const void* ip = LOCKDEP_RET_IP;
  return validate_then_lock(rwlock, read_access(rwlock), ip, [&] {
    return lock_publishing_waits([&] { return real().rwlock_tryrdlock(rwlock); },
                                 [&] { return real().rwlock_rdlock(rwlock); }, ip);
  });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t* rwlock) noexcept {
  if (forward_only()) return real().rwlock_wrlock(rwlock);
  const void* ip = LOCKDEP_RET_IP;
  return validate_then_lock(rwlock, lock_access::exclusive, ip, [&] {
    return lock_publishing_waits([&] { return real().rwlock_trywrlock(rwlock); },
                                 [&] { return real().rwlock_wrlock(rwlock); }, ip);
  });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t* rwlock) noexcept {
  if (forward_only()) return real().rwlock_tryrdlock(rwlock);
  return lock_then_annotate_as_trylock(rwlock, read_access(rwlock), LOCKDEP_RET_IP,
                                       [&] { return real().rwlock_tryrdlock(rwlock); });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t* rwlock) noexcept {
  if (forward_only()) return real().rwlock_trywrlock(rwlock);
  return lock_then_annotate_as_trylock(rwlock, lock_access::exclusive, LOCKDEP_RET_IP,
                                       [&] { return real().rwlock_trywrlock(rwlock); });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t* rwlock,
                                                      const struct timespec* deadline) noexcept {
  if (forward_only()) return real().rwlock_timedrdlock(rwlock, deadline);
  return lock_then_annotate_as_trylock(rwlock, read_access(rwlock), LOCKDEP_RET_IP,
                                       [&] { return real().rwlock_timedrdlock(rwlock, deadline); });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t* rwlock,
                                                      const struct timespec* deadline) noexcept {
  if (forward_only()) return real().rwlock_timedwrlock(rwlock, deadline);
  return lock_then_annotate_as_trylock(rwlock, lock_access::exclusive, LOCKDEP_RET_IP,
                                       [&] { return real().rwlock_timedwrlock(rwlock, deadline); });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t* rwlock, clockid_t clock,
                                                      const struct timespec* deadline) noexcept {
  if (forward_only()) return real().rwlock_clockrdlock(rwlock, clock, deadline);
  return lock_then_annotate_as_trylock(rwlock, read_access(rwlock), LOCKDEP_RET_IP, [&] {
    return real().rwlock_clockrdlock(rwlock, clock, deadline);
  });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t* rwlock, clockid_t clock,
                                                      const struct timespec* deadline) noexcept {
  if (forward_only()) return real().rwlock_clockwrlock(rwlock, clock, deadline);
  return lock_then_annotate_as_trylock(rwlock, lock_access::exclusive, LOCKDEP_RET_IP, [&] {
    return real().rwlock_clockwrlock(rwlock, clock, deadline);
  });
}

LOCKDEP_PRELOAD_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t* rwlock) noexcept {
  if (forward_only()) return real().rwlock_unlock(rwlock);
  const void* ip = LOCKDEP_RET_IP;
  lockdep::lock_map* map = map_for(rwlock);
  if (map != nullptr) annotate_release(*map, ip);
  return real().rwlock_unlock(rwlock);
}

}  // extern "C"

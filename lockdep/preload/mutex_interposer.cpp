// pthread_mutex_*: the interposers for mutexes (std::mutex, std::recursive_mutex and
// std::timed_mutex reach them too).
//
// Semantics, read from the mutex itself (glibc keeps the type in __data.__kind; its low two
// bits, glibc's PTHREAD_MUTEX_KIND_MASK_NP, are the type, the others flags such as robust,
// priority protocol or elision):
//   - lock: validated before the real call, so a deadlock is reported before it blocks. A relock
//     of a recursive mutex by its owner (glibc's __data.__owner is the owner's tid) is not
//     validated or recorded; its final unlock releases the hold. An error-checking relock is
//     validated (reported as recursive locking) and the real call then returns EDEADLK.
//   - trylock, timedlock, clocklock: recorded as trylocks after they succeed (they give up
//     instead of deadlocking, as the core's timed_mutex::try_lock_for): nothing depends on them.
//   - a real call that fails undoes the annotation; so does an unlock the real call refuses.
//   - unlock of a mutex the thread does not hold: reported (bad unlock balance), and the real
//     unlock is still called: the preload must not change what the program does.
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "caller_frame.hpp"
#include "fast_path.hpp"
#include "hang_watchdog.hpp"
#include "lock_annotations.hpp"
#include "lockdep/validator.hpp"
#include "real_functions.hpp"
#include "reentrancy_guard.hpp"

namespace lockdep::preload {
namespace {

constexpr int mutex_kind_mask = 3;  // glibc's PTHREAD_MUTEX_KIND_MASK_NP

bool is_recursive(const pthread_mutex_t* mutex) {
  return (__atomic_load_n(&mutex->__data.__kind, __ATOMIC_RELAXED) & mutex_kind_mask) ==
         PTHREAD_MUTEX_RECURSIVE_NP;
}

// Whether the calling thread owns `mutex` (only meaningful for recursive and error-checking
// mutexes, which record their owner). Only the owner writes its own tid there, so the answer
// is exact for the calling thread.
bool owned_by_caller(const pthread_mutex_t* mutex) {
  return __atomic_load_n(&mutex->__data.__owner, __ATOMIC_RELAXED) == gettid();
}

// A relock by the owner of a recursive mutex: the real call only bumps a count.
bool is_recursive_relock(const pthread_mutex_t* mutex) {
  return is_recursive(mutex) && owned_by_caller(mutex);
}

// An unlock that leaves a recursive mutex held.
bool is_inner_recursive_unlock(const pthread_mutex_t* mutex) {
  return is_recursive(mutex) && owned_by_caller(mutex) &&
         __atomic_load_n(&mutex->__data.__count, __ATOMIC_RELAXED) > 1;
}

// A mutex of the default type with no flags, as PTHREAD_MUTEX_INITIALIZER and std::mutex make
// them: glibc's lock and unlock of one cannot fail, so nothing needs undoing after them.
bool is_plain(const pthread_mutex_t* mutex) {
  return __atomic_load_n(&mutex->__data.__kind, __ATOMIC_RELAXED) == PTHREAD_MUTEX_TIMED_NP;
}

lockdep::acquire_request blocking_write(const lock_map& map) {
  return {map.default_subclass(), lock_access::exclusive, false, true};
}

bool acquired(int result) {
  return result == 0 || result == EOWNERDEAD;  // a robust mutex is acquired with EOWNERDEAD
}

// The common shape of the bounded lock functions: real call first, then a trylock annotation.
template <typename Call>
int lock_then_annotate_as_trylock(pthread_mutex_t* mutex, const void* ip, Call call) {
  bool relock = is_recursive_relock(mutex);
  int result = call();
  if (!acquired(result) || relock) return result;
  if (lock_map* map = map_for(mutex)) annotate_acquire(*map, lock_access::exclusive, true, ip);
  return result;
}

// Everything pthread_mutex_lock's straight line declines, from the start: recursive relocks,
// error-checking and robust mutexes, maps not remembered, the full validation, the watchdog.
[[gnu::noinline]] int lock_in_full(pthread_mutex_t* mutex, const void* ip) {
  if (forward_only() || is_recursive_relock(mutex)) return real().mutex_lock(mutex);
  lock_map* map = map_for(mutex);
  if (map != nullptr) annotate_acquire(*map, lock_access::exclusive, false, ip);
  int result = lock_publishing_waits([&] { return real().mutex_trylock(mutex); },
                                     [&] { return real().mutex_lock(mutex); }, ip);
  if (map != nullptr && !acquired(result)) annotate_release(*map, ip);
  return result;
}

[[gnu::noinline]] int unlock_in_full(pthread_mutex_t* mutex, const void* ip) {
  if (forward_only() || is_inner_recursive_unlock(mutex)) return real().mutex_unlock(mutex);
  lock_map* map = map_for(mutex);
  bool released = map != nullptr && annotate_release(*map, ip);
  int result = real().mutex_unlock(mutex);
  // EPERM from an error-checking mutex: still held after all.
  if (result != 0 && released) annotate_acquire(*map, lock_access::exclusive, false, ip, false);
  return result;
}

}  // namespace
}  // namespace lockdep::preload

using lockdep::lock_map;
using namespace lockdep::preload;

extern "C" {

LOCKDEP_PRELOAD_EXPORT int pthread_mutex_init(pthread_mutex_t* mutex,
                                              const pthread_mutexattr_t* attributes) noexcept {
  if (!forward_only()) annotate_init(mutex, sizeof *mutex, LOCKDEP_RET_IP);
  return real().mutex_init(mutex, attributes);
}

LOCKDEP_PRELOAD_EXPORT int pthread_mutex_destroy(pthread_mutex_t* mutex) noexcept {
  if (forward_only()) return real().mutex_destroy(mutex);
  annotate_destroy_begin(mutex, sizeof *mutex, LOCKDEP_RET_IP);
  int result = real().mutex_destroy(mutex);
  if (result == 0) annotate_destroy_end(mutex);
  return result;
}

LOCKDEP_PRELOAD_EXPORT int pthread_mutex_lock(pthread_mutex_t* mutex) noexcept {
  const void* ip = LOCKDEP_RET_IP;
  // The common case in a straight line: a plain mutex whose map this thread remembers, validated
  // by the fast path; then the real lock is a tail call.
  if (!forward_only() && is_plain(mutex) && !lockdep::detail::hang_watchdog_on()) [[likely]] {
    lock_map* map = remembered_map(mutex);
    if (map != nullptr && lockdep::detail::try_fast_acquire(*map, blocking_write(*map), ip))
        [[likely]]
      return real().mutex_lock(mutex);
  }
  int result = lock_in_full(mutex, ip);
  lockdep::detail::keep_caller_frame();
  return result;
}

LOCKDEP_PRELOAD_EXPORT int pthread_mutex_trylock(pthread_mutex_t* mutex) noexcept {
  if (forward_only()) return real().mutex_trylock(mutex);
  return lock_then_annotate_as_trylock(mutex, LOCKDEP_RET_IP,
                                       [&] { return real().mutex_trylock(mutex); });
}

LOCKDEP_PRELOAD_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* mutex,
                                                   const struct timespec* deadline) noexcept {
  if (forward_only()) return real().mutex_timedlock(mutex, deadline);
  return lock_then_annotate_as_trylock(mutex, LOCKDEP_RET_IP,
                                       [&] { return real().mutex_timedlock(mutex, deadline); });
}

LOCKDEP_PRELOAD_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* mutex, clockid_t clock,
                                                   const struct timespec* deadline) noexcept {
  if (forward_only()) return real().mutex_clocklock(mutex, clock, deadline);
  return lock_then_annotate_as_trylock(
      mutex, LOCKDEP_RET_IP, [&] { return real().mutex_clocklock(mutex, clock, deadline); });
}

LOCKDEP_PRELOAD_EXPORT int pthread_mutex_unlock(pthread_mutex_t* mutex) noexcept {
  // As pthread_mutex_lock: the release of the thread's most recent lock, a plain mutex whose
  // map it remembers, then the real unlock as a tail call.
  if (!forward_only() && is_plain(mutex)) [[likely]] {
    lock_map* map = remembered_map(mutex);
    if (map != nullptr && lockdep::detail::try_fast_release(*map)) [[likely]]
      return real().mutex_unlock(mutex);
  }
  int result = unlock_in_full(mutex, LOCKDEP_RET_IP);
  lockdep::detail::keep_caller_frame();
  return result;
}

}  // extern "C"

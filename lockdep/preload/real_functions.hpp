// The real pthread functions behind the interposers: the next definition after ours in the
// dynamic linker's search order (dlsym(RTLD_NEXT)), normally glibc's.
//
// Resolved all at once, by the preload's constructor or lazily by the first interposed call,
// whichever comes first (libraries loaded before us may lock in their constructors). dlsym may
// itself lock; a mutex or rwlock call made while this thread resolves is answered with glibc's
// __pthread_* aliases (compatibility symbols, bound by version at link time), which need no
// lookup.
//
// The condition-variable functions are looked up by version (GLIBC_2.3.2 on x86-64) where that
// version exists: an unversioned dlsym can answer the pre-2.3.2 compatibility functions, which
// use another layout of pthread_cond_t.
//
// Thread-safety: real() may be called from any thread at any time; the table is written once.
#pragma once

#include <pthread.h>
#include <time.h>

#include <atomic>

namespace lockdep::preload {

struct real_functions {
  int (*mutex_init)(pthread_mutex_t*, const pthread_mutexattr_t*);
  int (*mutex_destroy)(pthread_mutex_t*);
  int (*mutex_lock)(pthread_mutex_t*);
  int (*mutex_trylock)(pthread_mutex_t*);
  int (*mutex_timedlock)(pthread_mutex_t*, const timespec*);
  int (*mutex_clocklock)(pthread_mutex_t*, clockid_t, const timespec*);
  int (*mutex_unlock)(pthread_mutex_t*);

  int (*rwlock_init)(pthread_rwlock_t*, const pthread_rwlockattr_t*);
  int (*rwlock_destroy)(pthread_rwlock_t*);
  int (*rwlock_rdlock)(pthread_rwlock_t*);
  int (*rwlock_wrlock)(pthread_rwlock_t*);
  int (*rwlock_tryrdlock)(pthread_rwlock_t*);
  int (*rwlock_trywrlock)(pthread_rwlock_t*);
  int (*rwlock_timedrdlock)(pthread_rwlock_t*, const timespec*);
  int (*rwlock_timedwrlock)(pthread_rwlock_t*, const timespec*);
  int (*rwlock_clockrdlock)(pthread_rwlock_t*, clockid_t, const timespec*);
  int (*rwlock_clockwrlock)(pthread_rwlock_t*, clockid_t, const timespec*);
  int (*rwlock_unlock)(pthread_rwlock_t*);

  int (*spin_init)(pthread_spinlock_t*, int);
  int (*spin_destroy)(pthread_spinlock_t*);
  int (*spin_lock)(pthread_spinlock_t*);
  int (*spin_trylock)(pthread_spinlock_t*);
  int (*spin_unlock)(pthread_spinlock_t*);

  int (*cond_wait)(pthread_cond_t*, pthread_mutex_t*);
  int (*cond_timedwait)(pthread_cond_t*, pthread_mutex_t*, const timespec*);
  int (*cond_clockwait)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const timespec*);
};

// The resolved table once it is complete; until then real() resolves it (out of line).
inline std::atomic<const real_functions*> resolved_real_functions{nullptr};
const real_functions& resolve_real_functions();

// The real functions, resolving them on first use. A function the C library lacks (the clock*
// variants before glibc 2.30) is a stub returning ENOSYS. Inline: every interposer calls it.
inline const real_functions& real() {
  if (const real_functions* resolved = resolved_real_functions.load(std::memory_order_acquire))
      [[likely]] {
    return *resolved;
  }
  return resolve_real_functions();
}

}  // namespace lockdep::preload

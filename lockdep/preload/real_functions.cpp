#include "real_functions.hpp"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>

// glibc exports aliases of its mutex and rwlock functions (__pthread_mutex_lock, ...). They
// answer a pthread call made by dlsym itself while the table is being filled (our own
// definitions would recurse). Since glibc 2.34 they are compatibility symbols, bound by
// version; the base version is per architecture.
#if defined(__x86_64__)
#define LOCKDEP_GLIBC_BASE_VERSION "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define LOCKDEP_GLIBC_BASE_VERSION "GLIBC_2.17"
#endif

#ifdef LOCKDEP_GLIBC_BASE_VERSION
#define LOCKDEP_GLIBC_ALIAS(local, exported) \
  __asm__(".symver " #local ", " #exported "@" LOCKDEP_GLIBC_BASE_VERSION)
extern "C" {
int glibc_mutex_init(pthread_mutex_t*, const pthread_mutexattr_t*);
int glibc_mutex_destroy(pthread_mutex_t*);
int glibc_mutex_lock(pthread_mutex_t*);
int glibc_mutex_trylock(pthread_mutex_t*);
int glibc_mutex_unlock(pthread_mutex_t*);
int glibc_rwlock_init(pthread_rwlock_t*, const pthread_rwlockattr_t*);
int glibc_rwlock_destroy(pthread_rwlock_t*);
int glibc_rwlock_rdlock(pthread_rwlock_t*);
int glibc_rwlock_wrlock(pthread_rwlock_t*);
int glibc_rwlock_tryrdlock(pthread_rwlock_t*);
int glibc_rwlock_trywrlock(pthread_rwlock_t*);
int glibc_rwlock_unlock(pthread_rwlock_t*);
}
LOCKDEP_GLIBC_ALIAS(glibc_mutex_init, __pthread_mutex_init);
LOCKDEP_GLIBC_ALIAS(glibc_mutex_destroy, __pthread_mutex_destroy);
LOCKDEP_GLIBC_ALIAS(glibc_mutex_lock, __pthread_mutex_lock);
LOCKDEP_GLIBC_ALIAS(glibc_mutex_trylock, __pthread_mutex_trylock);
LOCKDEP_GLIBC_ALIAS(glibc_mutex_unlock, __pthread_mutex_unlock);
LOCKDEP_GLIBC_ALIAS(glibc_rwlock_init, __pthread_rwlock_init);
LOCKDEP_GLIBC_ALIAS(glibc_rwlock_destroy, __pthread_rwlock_destroy);
LOCKDEP_GLIBC_ALIAS(glibc_rwlock_rdlock, __pthread_rwlock_rdlock);
LOCKDEP_GLIBC_ALIAS(glibc_rwlock_wrlock, __pthread_rwlock_wrlock);
LOCKDEP_GLIBC_ALIAS(glibc_rwlock_tryrdlock, __pthread_rwlock_tryrdlock);
LOCKDEP_GLIBC_ALIAS(glibc_rwlock_trywrlock, __pthread_rwlock_trywrlock);
LOCKDEP_GLIBC_ALIAS(glibc_rwlock_unlock, __pthread_rwlock_unlock);
#endif

namespace lockdep::preload {
namespace {

// Functions that have no exported alias cannot be answered during resolution. dlsym never calls
// them; if some C library did, failing loudly beats calling through a null pointer.
template <typename... Args>
int unavailable_during_resolution(Args...) {
  static const char message[] =
      "lockdep preload: a pthread function without a glibc alias was called while resolving "
      "the real pthread functions\n";
  (void)!write(STDERR_FILENO, message, sizeof message - 1);
  _exit(70);
}

template <typename... Args>
int not_in_this_libc(Args...) {
  return ENOSYS;
}

#ifdef LOCKDEP_GLIBC_BASE_VERSION
#define LOCKDEP_FALLBACK(name, ...) glibc_##name
#else
#define LOCKDEP_FALLBACK(name, ...) unavailable_during_resolution<__VA_ARGS__>
#endif

const real_functions resolution_fallback = {
    LOCKDEP_FALLBACK(mutex_init, pthread_mutex_t*, const pthread_mutexattr_t*),
    LOCKDEP_FALLBACK(mutex_destroy, pthread_mutex_t*),
    LOCKDEP_FALLBACK(mutex_lock, pthread_mutex_t*),
    LOCKDEP_FALLBACK(mutex_trylock, pthread_mutex_t*),
    unavailable_during_resolution<pthread_mutex_t*, const timespec*>,
    unavailable_during_resolution<pthread_mutex_t*, clockid_t, const timespec*>,
    LOCKDEP_FALLBACK(mutex_unlock, pthread_mutex_t*),
    LOCKDEP_FALLBACK(rwlock_init, pthread_rwlock_t*, const pthread_rwlockattr_t*),
    LOCKDEP_FALLBACK(rwlock_destroy, pthread_rwlock_t*),
    LOCKDEP_FALLBACK(rwlock_rdlock, pthread_rwlock_t*),
    LOCKDEP_FALLBACK(rwlock_wrlock, pthread_rwlock_t*),
    LOCKDEP_FALLBACK(rwlock_tryrdlock, pthread_rwlock_t*),
    LOCKDEP_FALLBACK(rwlock_trywrlock, pthread_rwlock_t*),
    unavailable_during_resolution<pthread_rwlock_t*, const timespec*>,
    unavailable_during_resolution<pthread_rwlock_t*, const timespec*>,
    unavailable_during_resolution<pthread_rwlock_t*, clockid_t, const timespec*>,
    unavailable_during_resolution<pthread_rwlock_t*, clockid_t, const timespec*>,
    LOCKDEP_FALLBACK(rwlock_unlock, pthread_rwlock_t*),
    unavailable_during_resolution<pthread_spinlock_t*, int>,
    unavailable_during_resolution<pthread_spinlock_t*>,
    unavailable_during_resolution<pthread_spinlock_t*>,
    unavailable_during_resolution<pthread_spinlock_t*>,
    unavailable_during_resolution<pthread_spinlock_t*>,
    unavailable_during_resolution<pthread_cond_t*, pthread_mutex_t*>,
    unavailable_during_resolution<pthread_cond_t*, pthread_mutex_t*, const timespec*>,
    unavailable_during_resolution<pthread_cond_t*, pthread_mutex_t*, clockid_t, const timespec*>,
};

real_functions resolved_table{};
enum resolution_state : int { unresolved, resolving, resolved };
std::atomic<int> state{unresolved};
// Set on the thread filling the table, so its own nested pthread calls take the fallback.
thread_local bool resolving_here [[gnu::tls_model("initial-exec")]] = false;

template <typename Function>
void look_up(Function& into, const char* name, Function missing, const char* version = nullptr) {
  void* found = nullptr;
  if (version != nullptr) found = dlvsym(RTLD_NEXT, name, version);
  if (found == nullptr) found = dlsym(RTLD_NEXT, name);
  into = found != nullptr ? reinterpret_cast<Function>(found) : missing;
}

void resolve_into(real_functions& table) {
  real_functions& t = table;
  using m = pthread_mutex_t*;
  using rw = pthread_rwlock_t*;
  using sp = pthread_spinlock_t*;
  using cv = pthread_cond_t*;
  using ts = const timespec*;
  look_up(t.mutex_init, "pthread_mutex_init", not_in_this_libc<m, const pthread_mutexattr_t*>);
  look_up(t.mutex_destroy, "pthread_mutex_destroy", not_in_this_libc<m>);
  look_up(t.mutex_lock, "pthread_mutex_lock", not_in_this_libc<m>);
  look_up(t.mutex_trylock, "pthread_mutex_trylock", not_in_this_libc<m>);
  look_up(t.mutex_timedlock, "pthread_mutex_timedlock", not_in_this_libc<m, ts>);
  look_up(t.mutex_clocklock, "pthread_mutex_clocklock", not_in_this_libc<m, clockid_t, ts>);
  look_up(t.mutex_unlock, "pthread_mutex_unlock", not_in_this_libc<m>);
  look_up(t.rwlock_init, "pthread_rwlock_init", not_in_this_libc<rw, const pthread_rwlockattr_t*>);
  look_up(t.rwlock_destroy, "pthread_rwlock_destroy", not_in_this_libc<rw>);
  look_up(t.rwlock_rdlock, "pthread_rwlock_rdlock", not_in_this_libc<rw>);
  look_up(t.rwlock_wrlock, "pthread_rwlock_wrlock", not_in_this_libc<rw>);
  look_up(t.rwlock_tryrdlock, "pthread_rwlock_tryrdlock", not_in_this_libc<rw>);
  look_up(t.rwlock_trywrlock, "pthread_rwlock_trywrlock", not_in_this_libc<rw>);
  look_up(t.rwlock_timedrdlock, "pthread_rwlock_timedrdlock", not_in_this_libc<rw, ts>);
  look_up(t.rwlock_timedwrlock, "pthread_rwlock_timedwrlock", not_in_this_libc<rw, ts>);
  look_up(t.rwlock_clockrdlock, "pthread_rwlock_clockrdlock", not_in_this_libc<rw, clockid_t, ts>);
  look_up(t.rwlock_clockwrlock, "pthread_rwlock_clockwrlock", not_in_this_libc<rw, clockid_t, ts>);
  look_up(t.rwlock_unlock, "pthread_rwlock_unlock", not_in_this_libc<rw>);
  look_up(t.spin_init, "pthread_spin_init", not_in_this_libc<sp, int>);
  look_up(t.spin_destroy, "pthread_spin_destroy", not_in_this_libc<sp>);
  look_up(t.spin_lock, "pthread_spin_lock", not_in_this_libc<sp>);
  look_up(t.spin_trylock, "pthread_spin_trylock", not_in_this_libc<sp>);
  look_up(t.spin_unlock, "pthread_spin_unlock", not_in_this_libc<sp>);
#if defined(__x86_64__)
  const char* cond_version = "GLIBC_2.3.2";
#else
  const char* cond_version = nullptr;
#endif
  look_up(t.cond_wait, "pthread_cond_wait", not_in_this_libc<cv, m>, cond_version);
  look_up(t.cond_timedwait, "pthread_cond_timedwait", not_in_this_libc<cv, m, ts>, cond_version);
  look_up(t.cond_clockwait, "pthread_cond_clockwait", not_in_this_libc<cv, m, clockid_t, ts>);
}

[[gnu::cold]] const real_functions& resolve_slow() {
  if (resolving_here) return resolution_fallback;
  int expected = unresolved;
  if (state.compare_exchange_strong(expected, resolving, std::memory_order_acquire)) {
    resolving_here = true;
    resolve_into(resolved_table);
    resolving_here = false;
    state.store(resolved, std::memory_order_release);
    resolved_real_functions.store(&resolved_table, std::memory_order_release);
    return resolved_table;
  }
  // Another thread is resolving: dlsym takes microseconds, so wait for it.
  while (state.load(std::memory_order_acquire) != resolved) sched_yield();
  return resolved_table;
}

}  // namespace

const real_functions& resolve_real_functions() {
  if (state.load(std::memory_order_acquire) == resolved) return resolved_table;
  return resolve_slow();
}

}  // namespace lockdep::preload

// The instrumented lock types. Defined out of line on purpose: each operation is one real frame
// (named in stack traces, like the kernel's __mutex_lock), and LOCKDEP_RET_IP inside it is the
// user's call site.
#include <pthread.h>

#include <thread>

#include "caller_frame.hpp"
#include "fast_path.hpp"
#include "hang_watchdog.hpp"
#include "lockdep/mutex.hpp"
#include "lockdep/shared_mutex.hpp"
#include "lockdep/spinlock.hpp"
#include "lockdep/validator.hpp"
#include "native_owner.hpp"
#include "other_validator.hpp"

namespace lockdep {
namespace {

acquire_request blocking(unsigned subclass, lock_access access = lock_access::exclusive) {
  return {subclass, access, false, true};
}

acquire_request trylock(unsigned subclass, lock_access access = lock_access::exclusive) {
  return {subclass, access, true, true};
}

// The real lock operation `call` of one of these types: under lockdep-run, the LD_PRELOAD
// validator leaves it to this one (other_validator.hpp), so a problem among these locks is
// reported once. Without it, one test of a weak symbol.
template <class Call>
[[gnu::always_inline]] inline decltype(auto) own_native(Call&& call) {
  if (detail::other_validator_present()) [[unlikely]] {
    detail::enter_other_validator_work();
    struct leave_on_return {
      ~leave_on_return() { detail::leave_other_validator_work(); }
    } leave;
    return call();
  }
  return call();
}

// lock() and unlock() of the exclusive lock types, split so that the common case compiles to a
// short straight line: validate from the caches, take the real lock. Everything else (the
// watchdog on, anything the fast path declines, a release by a thread that does not own the
// lock) is out of line, and returns to the caller's frame rather than being tail-called, so
// stack traces still start at lock() or unlock().

// Validates and takes `real` when the fast path cannot: the full validation, and the real lock
// published as a wait if the hang watchdog is on.
template <class RealLock>
[[gnu::noinline]] void lock_default_full(lock_map& map, RealLock& real, const void* ip) {
  // With the watchdog off the fast path has just declined: no need to try it again.
  if (detail::hang_watchdog_on())
    detail::acquire_lock(map, blocking(map.default_subclass()), ip);
  else
    detail::lock_acquire_full(map, blocking(map.default_subclass()), ip);
  own_native([&] { detail::lock_watching_for_hangs(real, ip); });
}

// The fast path of a blocking lock() in the default subclass. Declined while the hang watchdog
// is on: every wait must then be published, which lock_default_full does.
[[gnu::always_inline]] inline bool try_fast_lock(lock_map& map, const void* ip) {
  return !detail::hang_watchdog_on() &&
         detail::try_fast_acquire(map, blocking(map.default_subclass()), ip);
}

// For a type that notes its owner itself (shared_mutex's write side).
template <class RealLock>
[[gnu::always_inline]] inline void lock_exclusive(lock_map& map, RealLock& real,
                                                  exclusive_owner& owner, const void* ip) {
  if (try_fast_lock(map, ip)) [[likely]]
    own_native([&] { real.lock(); });
  else
    lock_default_full(map, real, ip);
  owner.take();
}

// lock() and unlock() of the types over a glibc mutex (std::mutex, std::timed_mutex), which keep
// no owner of their own (native_owner.hpp): the fast path, then the real call as a tail call.
// glibc never fails to lock or unlock a mutex of the default type, which these are.
template <class NativeMutex>
[[gnu::always_inline]] inline void lock_native(lock_map& map, NativeMutex& real, const void* ip) {
  if (try_fast_lock(map, ip)) [[likely]] {
    own_native([&] { pthread_mutex_lock(real.native_handle()); });
    return;
  }
  lock_default_full(map, real, ip);
  detail::keep_caller_frame();
}

// Whether the real unlock may follow a release the fast path declined: the validator says so if
// it tracked the lock (a bad unlock is reported and refused), glibc's owner record if not.
// Out of line, so that the straight line keeps no registers for it.
[[gnu::noinline]] bool release_native_full(lock_map& map, const pthread_mutex_t& real,
                                           const void* ip) {
  if (detail::lock_release_tracked(map, ip) == detail::release_result::released) return true;
  // Untracked, or a bad unlock as far as the validator knows: a lock taken while the thread was
  // ignored is still the caller's.
  return detail::caller_owns(real);
}

template <class NativeMutex>
[[gnu::always_inline]] inline void unlock_native(lock_map& map, NativeMutex& real,
                                                 const void* ip) {
  if (detail::try_fast_release(map)) [[likely]] {
    own_native([&] { pthread_mutex_unlock(real.native_handle()); });
    return;
  }
  if (release_native_full(map, *real.native_handle(), ip)) own_native([&] { real.unlock(); });
  detail::keep_caller_frame();
}

// For a type that notes its owner itself: the owner's release of its most recent lock needs no
// more than the fast path. Anything else is validated in full, which reports a bad unlock, and
// reaches the real lock only if the caller owns it: this still holds after the validator has
// turned itself off.
template <class RealLock>
[[gnu::always_inline]] inline void unlock_exclusive(lock_map& map, RealLock& real,
                                                    exclusive_owner& owner, const void* ip) {
  if (owner.held_by_caller() && detail::try_fast_release(map)) [[likely]] {
    owner.forget();
    own_native([&] { real.unlock(); });
    return;
  }
  bool owned = owner.release_by_caller();
  detail::lock_release_full(map, ip);
  if (owned)
    own_native([&] { real.unlock(); });
  else
    detail::keep_caller_frame();
}

// The shared side of a std::shared_mutex as a Lockable, for lock_watching_for_hangs.
struct shared_side {
  std::shared_mutex& real;
  bool try_lock() { return real.try_lock_shared(); }
  void lock() { real.lock_shared(); }
};

// A spinning waiter's pause between reads of the lock word, doubled up to this many.
constexpr unsigned max_backoff_pauses = 64;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

mutex::~mutex() {
  check_no_locks_freed(this, sizeof(*this));
}
recursive_mutex::~recursive_mutex() {
  check_no_locks_freed(this, sizeof(*this));
}
timed_mutex::~timed_mutex() {
  check_no_locks_freed(this, sizeof(*this));
}
shared_mutex::~shared_mutex() {
  check_no_locks_freed(this, sizeof(*this));
}
spinlock::~spinlock() {
  check_no_locks_freed(this, sizeof(*this));
}

void mutex::lock() {
  lock_native(map_, real_, LOCKDEP_RET_IP);
}

void mutex::lock_nested(unsigned subclass) {
  detail::acquire_lock(map_, blocking(subclass), LOCKDEP_RET_IP);
  const void* caller = LOCKDEP_RET_IP;  // here, not in the lambda
  own_native([&] { detail::lock_watching_for_hangs(real_, caller); });
}

void mutex::lock_from(const void* ip) {
  detail::acquire_lock(map_, blocking(map_.default_subclass()), ip);
  own_native([&] { detail::lock_watching_for_hangs(real_, ip); });
}

bool mutex::try_lock() {
  if (!own_native([&] { return real_.try_lock(); })) return false;
  detail::acquire_lock(map_, trylock(map_.default_subclass()), LOCKDEP_RET_IP);
  return true;
}

void mutex::unlock() {
  unlock_native(map_, real_, LOCKDEP_RET_IP);
}

void recursive_mutex::lock() {
  if (owned_by_caller()) {
    own_native([&] { real_.lock(); });
    ++depth_;
    return;
  }
  detail::acquire_lock(map_, blocking(map_.default_subclass()), LOCKDEP_RET_IP);
  const void* caller = LOCKDEP_RET_IP;  // here, not in the lambda
  own_native([&] { detail::lock_watching_for_hangs(real_, caller); });
  owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  depth_ = 1;
}

bool recursive_mutex::try_lock() {
  if (!own_native([&] { return real_.try_lock(); })) return false;
  if (owned_by_caller()) {
    ++depth_;
    return true;
  }
  detail::acquire_lock(map_, trylock(map_.default_subclass()), LOCKDEP_RET_IP);
  owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  depth_ = 1;
  return true;
}

void recursive_mutex::unlock() {
  if (!owned_by_caller()) {
    detail::release_lock(map_, LOCKDEP_RET_IP);  // not held by this thread: reported, not unlocked
    return;
  }
  if (--depth_ == 0) {
    owner_.store(std::thread::id{}, std::memory_order_relaxed);
    detail::release_lock(map_, LOCKDEP_RET_IP);
  }
  own_native([&] { real_.unlock(); });
}

void timed_mutex::lock() {
  lock_native(map_, real_, LOCKDEP_RET_IP);
}

bool timed_mutex::try_lock() {
  if (!own_native([&] { return real_.try_lock(); })) return false;
  detail::acquire_lock(map_, trylock(map_.default_subclass()), LOCKDEP_RET_IP);
  return true;
}

bool timed_mutex::try_lock_until_steady(std::chrono::steady_clock::time_point deadline) {
  if (!own_native([&] { return real_.try_lock_until(deadline); })) return false;
  // LOCKDEP_RET_IP here is try_lock_for/until, inlined into the caller.
  detail::acquire_lock(map_, trylock(map_.default_subclass()), LOCKDEP_RET_IP);
  return true;
}

void timed_mutex::unlock() {
  unlock_native(map_, real_, LOCKDEP_RET_IP);
}

void shared_mutex::lock() {
  lock_exclusive(map_, real_, owner_, LOCKDEP_RET_IP);
}

void shared_mutex::lock_nested(unsigned subclass) {
  detail::acquire_lock(map_, blocking(subclass), LOCKDEP_RET_IP);
  const void* caller = LOCKDEP_RET_IP;  // here, not in the lambda
  own_native([&] { detail::lock_watching_for_hangs(real_, caller); });
  owner_.take();
}

bool shared_mutex::try_lock() {
  if (!own_native([&] { return real_.try_lock(); })) return false;
  owner_.take();
  detail::acquire_lock(map_, trylock(map_.default_subclass()), LOCKDEP_RET_IP);
  return true;
}

void shared_mutex::unlock() {
  unlock_exclusive(map_, real_, owner_, LOCKDEP_RET_IP);
}

void shared_mutex::lock_shared() {
  detail::acquire_lock(map_, blocking(map_.default_subclass(), lock_access::shared),
                       LOCKDEP_RET_IP);
  const void* caller = LOCKDEP_RET_IP;  // here, not in the lambda
  own_native([&] { detail::lock_watching_for_hangs(shared_side{real_}, caller); });
}

void shared_mutex::lock_shared_nested(unsigned subclass) {
  detail::acquire_lock(map_, blocking(subclass, lock_access::shared), LOCKDEP_RET_IP);
  const void* caller = LOCKDEP_RET_IP;  // here, not in the lambda
  own_native([&] { detail::lock_watching_for_hangs(shared_side{real_}, caller); });
}

void shared_mutex::lock_from(const void* ip) {
  detail::acquire_lock(map_, blocking(map_.default_subclass()), ip);
  own_native([&] { detail::lock_watching_for_hangs(real_, ip); });
  owner_.take();
}

void shared_mutex::lock_shared_from(const void* ip) {
  detail::acquire_lock(map_, blocking(map_.default_subclass(), lock_access::shared), ip);
  own_native([&] { detail::lock_watching_for_hangs(shared_side{real_}, ip); });
}

bool shared_mutex::try_lock_shared_from(const void* ip) {
  if (!own_native([&] { return real_.try_lock_shared(); })) return false;
  detail::acquire_lock(map_, trylock(map_.default_subclass(), lock_access::shared), ip);
  return true;
}

bool shared_mutex::try_lock_shared() {
  if (!own_native([&] { return real_.try_lock_shared(); })) return false;
  detail::acquire_lock(map_, trylock(map_.default_subclass(), lock_access::shared), LOCKDEP_RET_IP);
  return true;
}

void shared_mutex::unlock_shared() {
  if (detail::release_lock(map_, LOCKDEP_RET_IP)) own_native([&] { real_.unlock_shared(); });
}

rwlock::rwlock(lockdep::source_location where) : instrumented_lock(where) {
  initialize();
}
rwlock::rwlock(const char* name, lockdep::source_location where) : instrumented_lock(name, where) {
  initialize();
}
rwlock::rwlock(lock_class_key& key, unsigned subclass) : instrumented_lock(key, subclass) {
  initialize();
}
rwlock::~rwlock() {
  own_native([&] { pthread_rwlock_destroy(&real_); });
}

void rwlock::initialize() {
  // Reader-preferring: a waiting writer does not block new readers, which is what makes
  // recursive reads safe (the kernel's rwlock_t semantics).
  pthread_rwlockattr_t attributes;
  pthread_rwlockattr_init(&attributes);
  pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_READER_NP);
  own_native([&] { pthread_rwlock_init(&real_, &attributes); });
  pthread_rwlockattr_destroy(&attributes);
}

void rwlock::lock() {
  detail::acquire_lock(map_, blocking(map_.default_subclass()), LOCKDEP_RET_IP);
  own_native([&] { pthread_rwlock_wrlock(&real_); });
  owner_.take();
}

bool rwlock::try_lock() {
  if (own_native([&] { return pthread_rwlock_trywrlock(&real_); }) != 0) return false;
  owner_.take();
  detail::acquire_lock(map_, trylock(map_.default_subclass()), LOCKDEP_RET_IP);
  return true;
}

void rwlock::unlock() {
  bool owned = owner_.release_by_caller();
  detail::release_lock(map_, LOCKDEP_RET_IP);
  if (owned) own_native([&] { pthread_rwlock_unlock(&real_); });
}

void rwlock::lock_shared() {
  detail::acquire_lock(map_, blocking(map_.default_subclass(), lock_access::shared_recursive),
                       LOCKDEP_RET_IP);
  own_native([&] { pthread_rwlock_rdlock(&real_); });
}

bool rwlock::try_lock_shared() {
  if (own_native([&] { return pthread_rwlock_tryrdlock(&real_); }) != 0) return false;
  detail::acquire_lock(map_, trylock(map_.default_subclass(), lock_access::shared_recursive),
                       LOCKDEP_RET_IP);
  return true;
}

void rwlock::unlock_shared() {
  if (detail::release_lock(map_, LOCKDEP_RET_IP))
    own_native([&] { pthread_rwlock_unlock(&real_); });
}

void spinlock::spin_until_acquired() {
  // Test-and-test-and-set with exponential backoff: a waiter that reads the lock word often
  // pulls its line away from the holder, whose next write (in its critical section, or the
  // release) then waits for the line to come back. Yield now and then: with few cores the
  // holder may be waiting for ours.
  unsigned backoff = 1;
  while (locked_.exchange(true, std::memory_order_acquire)) {
    for (unsigned spins = 1; locked_.load(std::memory_order_relaxed); ++spins) {
      for (unsigned pause = 0; pause < backoff; ++pause) cpu_relax();
      if (backoff < max_backoff_pauses) backoff *= 2;
      if (spins % 128 == 0) std::this_thread::yield();
    }
  }
}

void spinlock::lock() {
  detail::acquire_lock(map_, blocking(map_.default_subclass()), LOCKDEP_RET_IP);
  if (locked_.exchange(true, std::memory_order_acquire)) [[unlikely]] {
    detail::waiting_scope waiting(LOCKDEP_RET_IP);
    spin_until_acquired();
  }
  owner_.take();
}

void spinlock::lock_nested(unsigned subclass) {
  detail::acquire_lock(map_, blocking(subclass), LOCKDEP_RET_IP);
  if (locked_.exchange(true, std::memory_order_acquire)) [[unlikely]] {
    detail::waiting_scope waiting(LOCKDEP_RET_IP);
    spin_until_acquired();
  }
  owner_.take();
}

void spinlock::lock_from(const void* ip) {
  detail::acquire_lock(map_, blocking(map_.default_subclass()), ip);
  if (locked_.exchange(true, std::memory_order_acquire)) [[unlikely]] {
    detail::waiting_scope waiting(ip);
    spin_until_acquired();
  }
  owner_.take();
}

bool spinlock::try_lock() {
  if (locked_.load(std::memory_order_relaxed) ||
      locked_.exchange(true, std::memory_order_acquire)) {
    return false;
  }
  owner_.take();
  detail::acquire_lock(map_, trylock(map_.default_subclass()), LOCKDEP_RET_IP);
  return true;
}

void spinlock::unlock() {
  bool owned = owner_.release_by_caller();
  detail::release_lock(map_, LOCKDEP_RET_IP);
  if (owned) locked_.store(false, std::memory_order_release);
}

}  // namespace lockdep

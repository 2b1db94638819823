// What the interposers tell the validator about a pthread object, in the validator's terms:
// which lock_map stands for it (lock_table), when it is acquired and released, initialised and
// destroyed. Each function enters a lockdep_scope itself before it calls into the validator or
// the table's slow paths, so the pthread calls lockdep makes on the way (its graph lock, spdlog,
// libunwind) go straight to the real functions. The common case, a known object whose
// acquisition or release the validator's fast path can record, is inline and calls nothing.
//
// Interposers call these only when forward_only() is false, with `ip` the program's call site
// (LOCKDEP_RET_IP in the interposer): reports print it, and their stack traces start at the
// interposer's frame (pthread_mutex_lock+0x..), as the kernel's start at mutex_lock.
//
// Thread-safety: any thread, as the pthread calls they annotate.
#pragma once

#include "fast_path.hpp"
#include "hang_watchdog.hpp"
#include "lock_table.hpp"
#include "lockdep/lock_map.hpp"
#include "lockdep/report.hpp"
#include "lockdep/validator.hpp"
#include "recent_maps.hpp"
#include "reentrancy_guard.hpp"

// The interposed pthread functions are the only symbols the preload library exports.
#define LOCKDEP_PRELOAD_EXPORT __attribute__((visibility("default")))

namespace lockdep::preload {

// The map of `object`, created on first use (static initialisers never call *_init). nullptr
// while the validator is off and the object has no map yet: there is nothing left to track.
lock_map* map_for_slow(const void* object);
inline lock_map* map_for(const void* object) {
  if (lock_map* remembered = remembered_map(object)) [[likely]]
    return remembered;
  // Read before the lookup: an entry unpublished meanwhile leaves the memo already stale.
  std::uint64_t version = lock_table_version.load(std::memory_order_acquire);
  lock_map* map = locks().find_existing(object);
  if (map == nullptr) map = map_for_slow(object);
  if (map != nullptr) recent_map_slot(object) = {object, map, version};
  return map;
}

// pthread_*_init: a fresh map for `object` in the class the options ask for (its own, or the
// class of `init_site`). A map left by a previous object at this address is forgotten; if the
// thread holds it, that is reported as a held lock freed.
void annotate_init(const void* object, std::size_t size, const void* init_site);
// pthread_*_destroy, called from `ip`, before the real call: reports the object (`size` bytes)
// if the thread holds it, and stops tracking it as held.
void annotate_destroy_begin(const void* object, std::size_t size, const void* ip);
// After a successful real destroy: forgets the map and its per-instance class.
void annotate_destroy_end(const void* object);

// Validates and records an acquisition (blocking: before the real call; trylock: after it
// succeeded). check=false records the hold without validating (undoing a failed release).
void annotate_acquire_slow(lock_map& map, acquire_request request, const void* ip);
inline void annotate_acquire(lock_map& map, lock_access access, bool trylock, const void* ip,
                             bool check = true) {
  acquire_request request{map.default_subclass(), access, trylock, check};
  if (!detail::try_fast_acquire(map, request, ip)) [[unlikely]]
    annotate_acquire_slow(map, request, ip);
}
// Records a release; false (and a bad-unlock-balance report) when the thread does not hold it.
bool annotate_release_slow(lock_map& map, const void* ip);
inline bool annotate_release(lock_map& map, const void* ip) {
  if (detail::try_fast_release(map)) [[likely]]
    return true;
  return annotate_release_slow(map, ip);
}

// The real blocking call, publishing the wait to the hang watchdog if it is on and the lock is
// busy (detail::lock_pthread_watching_for_hangs), inside lockdep: publishing captures the stack,
// and libunwind takes pthread mutexes of its own, which must go straight to the real functions.
// Through the interposer, a busy one published a wait of its own, and so on until the stack
// overflowed.
template <class TryLock, class Lock>
int lock_publishing_waits(TryLock try_lock, Lock lock, const void* ip) {
  lockdep_scope scope;
  return detail::lock_pthread_watching_for_hangs(try_lock, lock, ip);
}

}  // namespace lockdep::preload

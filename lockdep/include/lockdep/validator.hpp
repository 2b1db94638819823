// The validator's runtime API: the kernel's lock_acquire()/lock_release() and friends.
//
// Instrumented lock types call these around their real operations; custom lock types and
// pseudo-locks can call them directly. `ip` is the caller's code address (use
// LOCKDEP_RET_IP from the function your users call): reports print it as the acquisition site
// and start each stack trace at the frame that called the lock function.
//
// Cost: an acquisition whose chain of held classes was seen before reads thread-local state and
// a lock-free hash table only: no global lock, no allocation, no stack capture. A new chain
// takes the graph lock, may capture one stack trace, and searches the graph.
//
// Thread safety: all functions may be called from any thread. The validator never calls
// instrumented locks itself; calls made while it is reporting are ignored (no recursion).
#pragma once

#include "lockdep/config.hpp"
#include "lockdep/source_location.hpp"

#if !LOCKDEP_ENABLED
#include "lockdep/unvalidated.hpp"
#else

#include <cstddef>
#include <span>
#include <string>

#include "lockdep/lock_map.hpp"
#include "lockdep/report.hpp"

#define LOCKDEP_RET_IP (__builtin_return_address(0))

namespace lockdep {

struct acquire_request {
  unsigned subclass = 0;
  lock_access access = lock_access::exclusive;
  bool trylock = false;  // a successful trylock: no dependency is recorded into this lock
  bool check = true;     // false: track as held (for freed/exit checks) without validation
};

// Validates acquiring `map` with the current thread's held locks, then records it as held.
// Call BEFORE blocking on the real lock (trylocks: after they succeed), so a deadlock is
// reported before it happens.
void lock_acquire(lock_map& map, acquire_request request, const void* ip);
// Records `map` as released; a lock the thread does not hold gives a bad unlock balance report.
// Returns false in that case (the caller should not unlock the real lock).
bool lock_release(lock_map& map, const void* ip);

// Validates as if the lock were acquired and released (the kernel's might_lock()).
void might_lock(lock_map& map, lock_access access = lock_access::exclusive,
                const void* ip = nullptr);

enum class held_state { not_held, held, unknown /* the validator is off */ };
// Whether the current thread holds `map`; `access` narrows to a read or write hold.
held_state lock_held_state(const lock_map& map);
held_state lock_held_state(const lock_map& map, lock_access access);
// The kernel's lockdep_is_held(): true when held or when the validator cannot tell.
inline bool lock_is_held(const lock_map& map) {
  return lock_held_state(map) != held_state::not_held;
}

// Changes the class (or only the subclass) of a lock the current thread holds, then re-validates
// the locks taken after it (the kernel's lock_set_class / lock_set_subclass).
void lock_set_class(lock_map& map, lock_class_key& key, unsigned subclass, const void* ip);
void lock_set_subclass(lock_map& map, unsigned subclass, const void* ip);

// Reports (held lock freed) if the current thread holds a lock inside [from, from + size).
// Instrumented locks call it from their destructors.
void check_no_locks_freed(const void* from, std::size_t size);
// The same for locks whose maps live outside the freed memory (the LD_PRELOAD library keeps the
// maps of pthread objects in a table of its own): reports if the current thread holds one of
// `maps`, whose locks lie in [from, from + size), freed by the call at `ip` (where the report's
// stack trace starts). Either way this thread no longer holds any of them afterwards.
void check_no_locks_freed(std::span<const lock_map* const> maps, const void* from, std::size_t size,
                          const void* ip);
// Reports (still has locks held) if the current thread holds locks. Runs at thread exit.
void check_no_locks_held();

// assert_held / assert_not_held: a report (kernel WARN splat) when the current thread does not
// (does) hold the lock. Silent while the validator is off. See LOCKDEP_ASSERT_HELD.
void assert_held(const lock_map& map, const char* expression,
                 lockdep::source_location where = lockdep::source_location::current());
void assert_not_held(const lock_map& map, const char* expression,
                     lockdep::source_location where = lockdep::source_location::current());

// Reports misuse that is not about lock order (a kernel WARN splat, report_kind::warning): for
// instrumented code such as allocators and scope APIs. Issued even while the validator is off,
// and never turns it off. `ip` is the caller's code address (LOCKDEP_RET_IP).
void report_warning(const std::string& message, const void* ip,
                    lockdep::source_location where = lockdep::source_location::current());

// False once the validator has turned itself off (after a report, or when a table is full).
bool validation_enabled();
// Number of reports issued since start (or since the last testing reset).
std::size_t report_count();

// Turns validation off for the current thread while it lives (the kernel's lockdep_off()).
// Locks taken inside the scope are not tracked. Nests. Not copyable or movable.
class validation_off_scope {
 public:
  validation_off_scope();
  ~validation_off_scope();
  validation_off_scope(const validation_off_scope&) = delete;
  validation_off_scope& operator=(const validation_off_scope&) = delete;
};

}  // namespace lockdep

// Annotations taking any lock type with a lockdep_map() member, or a lock_map.
#define LOCKDEP_ASSERT_HELD(lock) \
  ::lockdep::assert_held(::lockdep::map_of(lock), "lockdep_assert_held(" #lock ")")
#define LOCKDEP_ASSERT_NOT_HELD(lock) \
  ::lockdep::assert_not_held(::lockdep::map_of(lock), "lockdep_assert_not_held(" #lock ")")

namespace lockdep {
inline lock_map& map_of(lock_map& map) {
  return map;
}
inline const lock_map& map_of(const lock_map& map) {
  return map;
}
template <typename Lock>
auto map_of(Lock& lock) -> decltype(lock.lockdep_map()) {
  return lock.lockdep_map();
}
}  // namespace lockdep

#endif  // LOCKDEP_ENABLED

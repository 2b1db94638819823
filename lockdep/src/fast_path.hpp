// The fast path: acquiring a lock whose class is cached in its lock_map on top of a chain of
// held classes validated before, and releasing the lock on top of the held stack. This is
// what almost every lock call of a running program is, so it is written to compile to a short
// leaf with no calls: one load of the shared fast_path_view line, the thread's own state, the
// lock's class cache, one identity and one chain-cache slot. Anything else (first use of a
// thread, an uncached class, a new chain, a trylock, a release out of order, validation off)
// returns false having changed nothing, and the caller takes the full path, which starts over.
//
// Inline so that the lock types (lock_types.cpp) compile it into their own lock() and unlock().
#pragma once

#include <atomic>
#include <cstdint>

#include "chain_cache.hpp"
#include "chain_key.hpp"
#include "class_registry.hpp"
#include "fast_path_view.hpp"
#include "held_lock_stack.hpp"
#include "validator_internal.hpp"

namespace lockdep::detail {

// The thread may use the fast path: its state is set up for the current generation, it is not
// inside the validator or a validation_off_scope, and validation is on. One branch: the
// generation is 0 until set up, and validation off is an epoch no generation ever has.
[[gnu::always_inline]] inline bool fast_path_open(const thread_lock_state& state) {
  return ((state.generation ^ fast_view.epoch.load(std::memory_order_relaxed)) |
          state.suppressed) == 0;
}

// Whether `cached`, read from the map's class cache for `subclass`, is still the map's class (a
// testing reset or a forgotten key may have reused the slot since). no_class never is: slot 0's
// identity is always null, which no lock's is, so it needs no test of its own.
[[gnu::always_inline]] inline bool still_class_of(const lock_map& map, unsigned subclass,
                                                  class_index cached) {
  if (cached > fast_view.class_limit.load(std::memory_order_relaxed)) return false;
  const std::atomic<const void*>* identities =
      fast_view.class_identities.load(std::memory_order_relaxed);
  const void* identity = class_registry::identity_of(map.class_identity(), subclass);
  return identities[cached].load(std::memory_order_acquire) == identity;
}

// The class cached in the map for `subclass` if it is still the map's class; no_class otherwise.
[[gnu::always_inline]] inline class_index cached_class_of(const lock_map& map, unsigned subclass) {
  class_index cached = lock_map_access::cached_class(map, subclass).load(std::memory_order_acquire);
  return still_class_of(map, subclass, cached) ? cached : no_class;
}

[[gnu::always_inline]] inline bool chain_is_cached(std::uint64_t chain_key) {
  return chain_cache::contains_near(fast_view.chain_table.load(std::memory_order_acquire),
                                    chain_key);
}

// Records a blocking, checked acquisition of `map` if everything it needs was validated before.
[[gnu::always_inline]] inline bool try_fast_acquire(lock_map& map, acquire_request request,
                                                    const void* ip) {
  thread_lock_state& state = this_thread_state();
  if (!fast_path_open(state) || !request.check || request.trylock ||
      request.subclass >= max_subclasses || state.depth >= state.max_depth) {
    return false;
  }
  class_index lock_class =
      lock_map_access::cached_class(map, request.subclass).load(std::memory_order_acquire);
  if (!still_class_of(map, request.subclass, lock_class)) return false;
  std::uint64_t chain_key =
      iterate_chain_key(state.chain_key, held_lock_id(lock_class, request.access));
  // A cached chain needs no usage marking: its key includes this class's access, so the
  // acquisition that recorded it marked the usage.
  if (!chain_is_cached(chain_key)) return false;
  count_chain_hit(state);
  state.held[state.depth] = {
      state.chain_key, ip,    &map, lock_class, static_cast<std::uint8_t>(request.subclass),
      request.access,  false, true};
  state.chain_key = chain_key;
  ++state.depth;
  return true;
}

// Records the release of `map` if it is the thread's most recent held lock.
[[gnu::always_inline]] inline bool try_fast_release(const lock_map& map) {
  thread_lock_state& state = this_thread_state();
  if (!fast_path_open(state) || state.depth == 0) return false;
  const held_lock& top = state.held[state.depth - 1];
  if (top.instance != &map) return false;
  state.chain_key = top.prev_chain_key;
  --state.depth;
  return true;
}

// The full paths (acquire_release.cpp): everything the fast path declined, from the start.
void lock_acquire_full(lock_map& map, acquire_request request, const void* ip);
bool lock_release_full(lock_map& map, const void* ip);
// lock_release_full, saying whether the thread held the lock: released (it did), not_held (a
// bad unlock, reported), or untracked (validation is off or the thread is ignored: unknown).
enum class release_result { released, not_held, untracked };
release_result lock_release_tracked(lock_map& map, const void* ip);

// lock_acquire() and lock_release(), inline.
[[gnu::always_inline]] inline void acquire_lock(lock_map& map, acquire_request request,
                                                const void* ip) {
  if (!try_fast_acquire(map, request, ip)) [[unlikely]]
    lock_acquire_full(map, request, ip);
}

[[gnu::always_inline]] inline bool release_lock(lock_map& map, const void* ip) {
  if (try_fast_release(map)) [[likely]]
    return true;
  return lock_release_full(map, ip);
}

}  // namespace lockdep::detail

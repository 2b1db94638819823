// lock_acquire and lock_release: the fast path (fast_path.hpp) first, then the full path, which
// handles everything from the start: first use of a thread, class lookup and registration,
// trylocks and unchecked locks, new chains (the slow paths in chain_validation.cpp and
// class_lookup.cpp), out-of-order releases and bad unlocks. The full path still takes no lock
// for a known chain.
#include <atomic>

#include "chain_key.hpp"
#include "fast_path.hpp"
#include "validator_core.hpp"
#include "validator_internal.hpp"

namespace lockdep {
namespace detail {
namespace {

[[gnu::always_inline]] inline void push(validator_core& shared, thread_lock_state& state,
                                        lock_map& map, class_index lock_class,
                                        acquire_request request, const void* ip) {
  if (state.depth >= state.max_depth) [[unlikely]] {
    report_depth_overflow(state, map, lock_class, request.access, ip);
    return;
  }

  held_lock& next = state.held[state.depth];
  next = {state.chain_key,
          ip,
          &map,
          lock_class,
          static_cast<std::uint8_t>(request.subclass),
          request.access,
          request.trylock,
          request.check};
  std::uint64_t chain_key =
      iterate_chain_key(state.chain_key, held_lock_id(lock_class, request.access));
  // Trylocks and unchecked locks record no dependency into themselves, so they have no chain
  // to validate (the kernel's validate_chain does the same). A cached chain needs no usage
  // marking either: its key includes this class's access, so the first acquisition that
  // recorded it marked the usage.
  bool chained = request.check && !request.trylock;
  if (!chained || !shared.chains->contains(chain_key)) [[unlikely]] {
    mark_usage(shared.classes->at(lock_class), request.access);
    if (chained) validate_new_chain(state, next, chain_key);
  } else {
    count_chain_hit(state);
  }
  state.chain_key = chain_key;
  ++state.depth;
}

}  // namespace

void push_held_lock(thread_lock_state& state, lock_map& map, class_index lock_class,
                    acquire_request request, const void* ip) {
  push(core(), state, map, lock_class, request, ip);
}

void lock_acquire_full(lock_map& map, acquire_request request, const void* ip) {
  if (!validation_is_on()) return;
  thread_lock_state& state = this_thread_state();
  if (state.ignored() || !prepare_thread_state(state)) [[unlikely]]
    return;
  if (request.subclass >= max_subclasses) [[unlikely]] {
    report_invalid_subclass(state, request.subclass, ip);
    return;
  }
  validator_core& shared = core();
  class_index lock_class = cached_class_of(map, request.subclass);
  if (lock_class == no_class) [[unlikely]] {
    lock_class = class_of(state, map, request.subclass, ip);
    if (lock_class == no_class) return;
  }
  push(shared, state, map, lock_class, request, ip);
}

release_result lock_release_tracked(lock_map& map, const void* ip) {
  if (!validation_is_on()) return release_result::untracked;
  thread_lock_state& state = this_thread_state();
  if (state.ignored()) return release_result::untracked;
  if (!prepare_thread_state(state)) [[unlikely]]
    return release_result::untracked;
  if (state.depth > 0 && state.held[state.depth - 1].instance == &map) {
    --state.depth;
    state.chain_key = state.held[state.depth].prev_chain_key;
    return release_result::released;
  }
  for (std::uint32_t i = state.depth; i-- > 0;) {
    if (state.held[i].instance == &map) {
      // Released out of order: the locks above it form new chains (the kernel re-acquires them).
      rebuild_held_stack(state, i, nullptr);
      return release_result::released;
    }
  }
  if (forget_held_before_reset(state, map)) return release_result::released;
  report_bad_unlock(state, map, ip);
  return release_result::not_held;
}

bool lock_release_full(lock_map& map, const void* ip) {
  return lock_release_tracked(map, ip) != release_result::not_held;
}

}  // namespace detail

void lock_acquire(lock_map& map, acquire_request request, const void* ip) {
  detail::acquire_lock(map, request, ip);
}

bool lock_release(lock_map& map, const void* ip) {
  return detail::release_lock(map, ip);
}

}  // namespace lockdep

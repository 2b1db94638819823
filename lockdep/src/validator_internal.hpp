// Functions shared by the validator's translation units: the acquisition core used by
// lock_acquire and by re-acquisition after a non-top release or a class change, and the slow
// paths it falls back to.
#pragma once

#include <cstdint>

#include "held_lock_stack.hpp"
#include "lockdep/lock_map.hpp"
#include "lockdep/validator.hpp"

namespace lockdep {

// The validator's access to lock_map internals.
struct lock_map_access {
  static std::atomic<std::uint32_t>& cached_class(const lock_map& map, unsigned subclass) {
    return const_cast<lock_map&>(map).class_cache_[subclass];
  }
  static void set_key(lock_map& map, const lock_class_key* key, unsigned default_subclass) {
    map.key_ = key;
    if (key != nullptr) map.name_ = key->name();
    map.default_subclass_ = default_subclass;
    for (auto& cached : map.class_cache_) cached.store(0, std::memory_order_relaxed);
  }
  // As in the kernel, a lock's subclass set while held becomes its default afterwards.
  static void set_default_subclass(lock_map& map, unsigned subclass) {
    map.default_subclass_ = subclass;
  }
  // The subclasses (bit s for subclass s) the map has looked a class up for: registration
  // always caches the class it finds, so these are the only ones that may have a class.
  static unsigned registered_subclasses(const lock_map& map) {
    unsigned subclasses = 0;
    for (unsigned subclass = 0; subclass < max_subclasses; ++subclass) {
      if (map.class_cache_[subclass].load(std::memory_order_relaxed) != 0) {
        subclasses |= 1u << subclass;
      }
    }
    return subclasses;
  }
};

}  // namespace lockdep

namespace lockdep::detail {

// The class of (map, subclass), registering it on first use; no_class when it cannot be had
// (table full: reported). Lock-free when the map's cache is valid.
[[gnu::cold]] class_index class_of(thread_lock_state& state, lock_map& map, unsigned subclass,
                                   const void* ip);

// Pushes a lock the thread is acquiring, validating its chain if it is new.
void push_held_lock(thread_lock_state& state, lock_map& map, class_index lock_class,
                    acquire_request request, const void* ip);

// Slow path for a chain not in the cache: records it, checks recursion and adds dependencies
// (each checked for cycles). `next` is state.held[state.depth], not yet counted in depth.
[[gnu::cold]] void validate_new_chain(thread_lock_state& state, const held_lock& next,
                                      std::uint64_t chain_key);

// Pops held locks from index `from` up and pushes them again, re-validating (used after a
// non-top release and after a class change). `replaced`, if set, becomes the entry at `from`.
[[gnu::cold]] void rebuild_held_stack(thread_lock_state& state, std::uint32_t from,
                                      const held_lock* replaced);

// Reports for misuse on the acquire/release paths.
[[gnu::cold]] void report_bad_unlock(thread_lock_state& state, const lock_map& map, const void* ip);
[[gnu::cold]] void report_invalid_subclass(thread_lock_state& state, unsigned subclass,
                                           const void* ip);
[[gnu::cold]] void report_depth_overflow(thread_lock_state& state, const lock_map& map,
                                         class_index lock_class, lock_access access,
                                         const void* ip);

inline constexpr unsigned all_subclasses = (1u << max_subclasses) - 1;
// Forgets the classes of `identity` (those of the subclasses in the mask: bit s for subclass s)
// with their dependencies and chains.
void forget_classes(const void* identity, unsigned subclasses = all_subclasses);

}  // namespace lockdep::detail

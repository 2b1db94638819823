// lock_table: the side table from a pthread object's address to the lockdep::lock_map that
// stands for it (liblockdep's lock lookup, without its fixed pre-constructor pool).
//
// A pthread_mutex_t has no room for a lock_map, so the preload keeps one per object here:
//   - created by *_init, or lazily on first use for objects that are never initialised
//     (PTHREAD_MUTEX_INITIALIZER, std::mutex, std::recursive_mutex);
//   - per-instance class by default, named after the object's address ("0x7ffd5c3a1e40"), as
//     liblockdep did; with a call-site key the class is shared by every object initialised there;
//   - forgotten when the object is destroyed (or initialised again), which forgets a per-instance
//     class with its dependencies, so a new object at the same address starts clean.
//
// Synchronisation is the table's own: 256 shards, each a spin_lock over 64 hash buckets, taken
// by writers only; lookups of an existing entry read the chain without any lock, so locking
// disjoint mutexes on two threads writes no shared cache line here. Entries come from mmap'ed
// chunks and a free list, never from malloc, so no table operation calls back into an
// interposer. Entry memory is never returned to the system: a map pointer used after its object
// was destroyed (a use-after-destroy in the program), or a lookup walking past an entry being
// recycled, touches a recycled entry, never an unmapped page.
//
// Cost: a lookup hashes the address and walks one short chain with acquire loads; only a miss
// (first use of an object) takes the shard lock.
//
// Thread-safety: every member may be called from any thread. Functions that destroy a lock_map
// (erase, initialise) call into the validator and must run inside a lockdep_scope; so must the
// others, as their callers use the returned map with the validator. Not copyable or movable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lockdep/lock_class_key.hpp"
#include "lockdep/lock_map.hpp"

namespace lockdep::preload {

class lock_table {
 public:
  static constexpr std::size_t shard_count = 256;
  static constexpr std::size_t buckets_per_shard = 64;

  constexpr lock_table() = default;
  lock_table(const lock_table&) = delete;
  lock_table& operator=(const lock_table&) = delete;

  // The map of `object`, or nullptr if the table has none.
  lock_map* find(const void* object);
  // find() without ever taking a lock: nullptr may also mean that concurrent removals disturbed
  // the walk (ask find() or find_or_create() then). Touches nothing but the table's memory, so
  // it needs no lockdep_scope.
  lock_map* find_existing(const void* object);
  // The map of `object`, created with a per-instance class if there is none. nullptr only when
  // memory for a new entry cannot be mapped.
  lock_map* find_or_create(const void* object);
  // (Re)initialisation: forgets the current map of `object` (reporting it if the calling thread
  // holds it: a held lock re-initialised is a held lock freed) and creates a fresh one, in the
  // class of `key` or, when `key` is null, in a class of its own, named in reports after the
  // variable holding `object` or the source line `init_site` returns to (see unnamed_lock).
  lock_map* initialise(const void* object, lock_class_key* key, const void* init_site);
  // Destruction: forgets the map of `object` (reporting it if held) and its per-instance class.
  void erase(const void* object);

  // fork() support: hold every lock of the table across fork, so the child's table is whole.
  void lock_all_for_fork();
  void unlock_all_after_fork();
};

// Bumped whenever the table unpublishes an entry (an object destroyed or initialised again): a
// map found under an older version may belong to a destroyed object (recent_maps.hpp). Read by
// every lock call, written rarely: on a cache line of its own.
alignas(64) inline std::atomic<std::uint64_t> lock_table_version{1};

// The process's table. Its state is in constant-initialised statics, so this needs no guard.
inline lock_table& locks() {
  static constinit lock_table table;
  return table;
}

}  // namespace lockdep::preload

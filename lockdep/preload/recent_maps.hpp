// Each thread's memo of the maps its interposers looked up last, so that the common lock and
// unlock find their map without walking the lock table: a lock and its unlock look up the same
// object, and the locks a thread uses at a time are few.
//
// A memo is trusted only while the table has unpublished no entry since it was made
// (lock_table_version): a program that never destroys its locks (std::mutex does not call
// pthread_mutex_destroy) keeps every memo, one that destroys them often falls back to the
// table walk, which costs what it did without memos. A memo raced by the destruction of its own
// object is a use-after-destroy in the program, as a table lookup raced so would be.
//
// Thread-safety: per-thread state only; the version is atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lock_table.hpp"
#include "lockdep/lock_map.hpp"

namespace lockdep::preload {

struct recent_map {
  const void* object = nullptr;
  lock_map* map = nullptr;
  std::uint64_t version = 0;
};

inline constexpr std::size_t recent_map_slots = 64;
inline thread_local recent_map recent_maps [[gnu::tls_model("initial-exec")]][recent_map_slots];

// The memo slot of `object`: pthread objects are at least 8-byte aligned, so neighbours in an
// array take neighbouring slots.
inline recent_map& recent_map_slot(const void* object) {
  return recent_maps[(reinterpret_cast<std::uintptr_t>(object) >> 3) % recent_map_slots];
}

inline lock_map* remembered_map(const void* object) {
  const recent_map& memo = recent_map_slot(object);
  if (memo.object == object &&
      memo.version == lock_table_version.load(std::memory_order_acquire)) [[likely]]
    return memo.map;
  return nullptr;
}

}  // namespace lockdep::preload

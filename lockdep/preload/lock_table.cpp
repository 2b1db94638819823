#include "lock_table.hpp"

#include <atomic>
#include <cstdint>
#include <new>

#include "lock_pages.hpp"
#include "mapped_chunks.hpp"
#include "spin_lock.hpp"

namespace lockdep::preload {
namespace {

// Readers walk the chains without the shard lock, so the fields they read are atomics that
// writers (under the shard lock) publish with release stores. An entry's memory is only ever
// an entry: constructed once when carved, then recycled through the pool with its atomics in
// place, so a reader that strays onto a recycled entry reads valid (if unrelated) fields.
struct entry {
  std::atomic<const void*> object{nullptr};
  std::atomic<entry*> next{nullptr};
  entry* free_next = nullptr;  // the pool's free list; touched only under the pool's lock
  // For a per-instance class: the object and its init call, which the map points to.
  lock_origin origin;
  alignas(lock_map) unsigned char storage[sizeof(lock_map)];

  lock_map& map() { return *std::launder(reinterpret_cast<lock_map*>(storage)); }
};

struct shard {
  spin_lock lock;  // serializes writers; readers take no lock
  std::atomic<entry*> buckets[lock_table::buckets_per_shard] = {};
};

// Entries are carved from anonymous mappings and recycled through a free list. Both are
// zero-initialised statics, usable before any constructor runs.
class entry_pool {
 public:
  entry* take() {
    spin_guard guard(lock_);
    if (free_ != nullptr) {
      entry* taken = free_;
      free_ = taken->free_next;
      return taken;
    }
    return chunks_.carve();
  }
  void give_back(entry* recycled) {
    spin_guard guard(lock_);
    recycled->free_next = free_;
    free_ = recycled;
  }
  spin_lock& lock() { return lock_; }

 private:
  spin_lock lock_;
  entry* free_ = nullptr;
  mapped_chunks<entry> chunks_;
};

constinit entry_pool pool;
// Constant-initialised (zeroed) storage: usable before any constructor runs.
constinit shard shards[lock_table::shard_count];

std::size_t bucket_of(const void* object) {
  // Fibonacci hashing of the address; pthread objects are at least 4-byte aligned.
  auto bits = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(object) >> 2);
  return static_cast<std::size_t>((bits * 0x9e3779b97f4a7c15ull) >> 50);  // 14 bits
}

shard& shard_of(std::size_t bucket) {
  return shards[bucket % lock_table::shard_count];
}

std::atomic<entry*>& head_of(std::size_t bucket) {
  return shard_of(bucket).buckets[bucket / lock_table::shard_count];
}

// The entry of `object` in its bucket, found without the shard lock; nullptr if absent, or if
// the walk was disturbed by concurrent removals (it then may have strayed onto recycled entries,
// and the caller asks again under the lock). A hit is exact: an entry is published for `object`
// only once its map is constructed, and only the destruction of `object` itself (which must not
// race with its use) unpublishes it.
[[gnu::always_inline]] inline entry* find_unlocked(std::size_t bucket, const void* object) {
  constexpr int max_steps = 64;  // chains are short; a longer walk means it was disturbed
  entry* at = head_of(bucket).load(std::memory_order_acquire);
  for (int steps = 0; at != nullptr && steps < max_steps; ++steps) {
    if (at->object.load(std::memory_order_acquire) == object) return at;
    at = at->next.load(std::memory_order_acquire);
  }
  return nullptr;
}

// The entry of `object` unlinked from its bucket, or nullptr.
entry* detach(const void* object) {
  std::size_t bucket = bucket_of(object);
  spin_guard guard(shard_of(bucket).lock);
  std::atomic<entry*>* link = &head_of(bucket);
  for (entry* at = link->load(std::memory_order_relaxed); at != nullptr;
       at = link->load(std::memory_order_relaxed)) {
    if (at->object.load(std::memory_order_relaxed) == object) {
      link->store(at->next.load(std::memory_order_relaxed), std::memory_order_release);
      // A reader still on `at` sees no object and walks on to what followed it.
      at->object.store(nullptr, std::memory_order_release);
      lock_pages_remove(object);
      lock_table_version.fetch_add(1, std::memory_order_release);  // memos of `at` are stale
      return at;
    }
    link = &at->next;
  }
  return nullptr;
}

void destroy(entry* detached) {
  // Outside any shard lock: the lock_map's destructor reports a held lock and forgets the class
  // under the validator's graph lock.
  detached->map().~lock_map();
  pool.give_back(detached);
}

// Links a new entry for `object`, initialised by the call returning to `init_site` (nullptr:
// created on first use); with keep_existing, returns the existing one if there is one.
lock_map* insert(const void* object, lock_class_key* key, const void* init_site,
                 bool keep_existing) {
  std::size_t bucket = bucket_of(object);
  spin_guard guard(shard_of(bucket).lock);
  std::atomic<entry*>& head = head_of(bucket);
  if (keep_existing) {
    for (entry* at = head.load(std::memory_order_relaxed); at != nullptr;
         at = at->next.load(std::memory_order_relaxed)) {
      if (at->object.load(std::memory_order_relaxed) == object) return &at->map();
    }
  }
  entry* created = pool.take();
  if (created == nullptr) return nullptr;
  if (key != nullptr) {
    new (created->storage) lock_map(*key);
  } else {
    created->origin = {object, init_site};
    new (created->storage) lock_map(created->origin);
  }
  created->next.store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
  // Publish: the object last, so a reader that matches it sees the constructed map.
  created->object.store(object, std::memory_order_release);
  head.store(created, std::memory_order_release);
  // Without a page entry (out of memory) the object is still found by address, only not by
  // the range of a free().
  (void)lock_pages_add(object);
  return &created->map();
}

}  // namespace

lock_map* lock_table::find(const void* object) {
  std::size_t bucket = bucket_of(object);
  if (entry* found = find_unlocked(bucket, object)) return &found->map();
  spin_guard guard(shard_of(bucket).lock);
  for (entry* at = head_of(bucket).load(std::memory_order_relaxed); at != nullptr;
       at = at->next.load(std::memory_order_relaxed)) {
    if (at->object.load(std::memory_order_relaxed) == object) return &at->map();
  }
  return nullptr;
}

lock_map* lock_table::find_existing(const void* object) {
  entry* found = find_unlocked(bucket_of(object), object);
  return found != nullptr ? &found->map() : nullptr;
}

lock_map* lock_table::find_or_create(const void* object) {
  if (entry* found = find_unlocked(bucket_of(object), object)) return &found->map();
  return insert(object, nullptr, nullptr, true);
}

lock_map* lock_table::initialise(const void* object, lock_class_key* key, const void* init_site) {
  if (entry* old = detach(object)) destroy(old);
  return insert(object, key, init_site, false);
}

void lock_table::erase(const void* object) {
  if (entry* old = detach(object)) destroy(old);
}

void lock_table::lock_all_for_fork() {
  for (std::size_t i = 0; i < shard_count; ++i) shards[i].lock.lock();
  pool.lock().lock();
  lock_pages_lock_for_fork();  // taken inside the shard locks, as insert() takes them
}

void lock_table::unlock_all_after_fork() {
  lock_pages_unlock_after_fork();
  pool.lock().unlock();
  for (std::size_t i = 0; i < shard_count; ++i) shards[i].lock.unlock();
}

}  // namespace lockdep::preload

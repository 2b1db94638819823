#include "lock_table.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <new>

#include "spin_lock.hpp"

namespace lockdep::preload {
namespace {

struct entry {
  const void* object = nullptr;
  entry* next = nullptr;
  // The per-instance class name: the map keeps the pointer until the class is created.
  char name[2 + 2 * sizeof(void*) + 1] = {};
  alignas(lock_map) unsigned char storage[sizeof(lock_map)];

  lock_map& map() { return *std::launder(reinterpret_cast<lock_map*>(storage)); }
};

struct shard {
  spin_lock lock;
  entry* buckets[lock_table::buckets_per_shard] = {};
};

// Entries are carved from anonymous mappings and recycled through a free list. Both are
// zero-initialised statics, usable before any constructor runs.
class entry_pool {
 public:
  void* take(std::size_t size) {
    spin_guard guard(lock_);
    if (free_ != nullptr) {
      free_node* taken = free_;
      free_ = taken->next;
      return taken;
    }
    if (chunk_left_ < size) {
      void* mapped =
          mmap(nullptr, chunk_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mapped == MAP_FAILED) return nullptr;
      chunk_next_ = static_cast<unsigned char*>(mapped);
      chunk_left_ = chunk_size;
    }
    void* taken = chunk_next_;
    chunk_next_ += size;
    chunk_left_ -= size;
    return taken;
  }
  void give_back(void* memory) {
    spin_guard guard(lock_);
    free_ = new (memory) free_node{free_};
  }
  spin_lock& lock() { return lock_; }

 private:
  struct free_node {
    free_node* next;
  };
  static constexpr std::size_t chunk_size = 256 * 1024;
  spin_lock lock_;
  free_node* free_ = nullptr;
  unsigned char* chunk_next_ = nullptr;
  std::size_t chunk_left_ = 0;
};

constinit entry_pool pool;
// Constant-initialised (zeroed) storage: usable before any constructor runs.
constinit shard shards[lock_table::shard_count];

void write_address_name(char* out, const void* object) {
  static const char digits[] = "0123456789abcdef";
  auto value = reinterpret_cast<std::uintptr_t>(object);
  char reversed[2 * sizeof(void*)];
  std::size_t length = 0;
  do {
    reversed[length++] = digits[value & 0xf];
    value >>= 4;
  } while (value != 0);
  *out++ = '0';
  *out++ = 'x';
  while (length > 0) *out++ = reversed[--length];
  *out = '\0';
}

std::size_t bucket_of(const void* object) {
  // Fibonacci hashing of the address; pthread objects are at least 4-byte aligned.
  auto bits = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(object) >> 2);
  return static_cast<std::size_t>((bits * 0x9e3779b97f4a7c15ull) >> 50);  // 14 bits
}

shard& shard_of(std::size_t bucket) {
  return shards[bucket % lock_table::shard_count];
}

entry*& head_of(std::size_t bucket) {
  return shard_of(bucket).buckets[bucket / lock_table::shard_count];
}

// The entry of `object` unlinked from its bucket, or nullptr.
entry* detach(const void* object) {
  std::size_t bucket = bucket_of(object);
  spin_guard guard(shard_of(bucket).lock);
  for (entry** link = &head_of(bucket); *link != nullptr; link = &(*link)->next) {
    if ((*link)->object == object) {
      entry* found = *link;
      *link = found->next;
      return found;
    }
  }
  return nullptr;
}

void destroy(entry* detached) {
  // Outside any shard lock: the lock_map's destructor reports a held lock and forgets the class
  // under the validator's graph lock.
  detached->map().~lock_map();
  detached->~entry();
  pool.give_back(detached);
}

// Links a new entry for `object`; with keep_existing, returns the existing one if there is one.
lock_map* insert(const void* object, lock_class_key* key, bool keep_existing) {
  std::size_t bucket = bucket_of(object);
  spin_guard guard(shard_of(bucket).lock);
  entry*& head = head_of(bucket);
  if (keep_existing) {
    for (entry* at = head; at != nullptr; at = at->next) {
      if (at->object == object) return &at->map();
    }
  }
  void* memory = pool.take(sizeof(entry));
  if (memory == nullptr) return nullptr;
  auto* created = new (memory) entry;
  created->object = object;
  if (key != nullptr) {
    new (created->storage) lock_map(*key);
  } else {
    write_address_name(created->name, object);
    new (created->storage) lock_map(created->name);
  }
  created->next = head;
  head = created;
  return &created->map();
}

}  // namespace

lock_map* lock_table::find(const void* object) {
  std::size_t bucket = bucket_of(object);
  spin_guard guard(shard_of(bucket).lock);
  for (entry* at = head_of(bucket); at != nullptr; at = at->next) {
    if (at->object == object) return &at->map();
  }
  return nullptr;
}

lock_map* lock_table::find_or_create(const void* object) {
  return insert(object, nullptr, true);
}

lock_map* lock_table::initialise(const void* object, lock_class_key* key) {
  if (entry* old = detach(object)) destroy(old);
  return insert(object, key, false);
}

void lock_table::erase(const void* object) {
  if (entry* old = detach(object)) destroy(old);
}

void lock_table::lock_all_for_fork() {
  for (std::size_t i = 0; i < shard_count; ++i) shards[i].lock.lock();
  pool.lock().lock();
}

void lock_table::unlock_all_after_fork() {
  pool.lock().unlock();
  for (std::size_t i = 0; i < shard_count; ++i) shards[i].lock.unlock();
}

lock_table& locks() {
  static constinit lock_table table;
  return table;
}

}  // namespace lockdep::preload

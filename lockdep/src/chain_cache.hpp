// The lock-chain cache: the set of chain keys (hashes of held-class sequences) already validated.
//
// A hit means this exact sequence of held classes was validated before, so the acquisition
// needs no graph work at all; this is what makes the common path cheap.
//
// Protocol: lookups are lock-free and may run on any thread at any time; inserts and removals
// happen only under the graph lock (one writer). The table is open addressing over atomic
// 64-bit keys. It starts small and doubles as chains are added (up to twice max_chains slots),
// so a program's working set of chains stays dense in the cache instead of scattered over the
// largest table it could ever need. A table is one array: element 0 holds its mask, the slots
// follow, so a reader gets a consistent mask and slots from one pointer. Growing fills the new
// table completely, then publishes it with a release store: a reader finds every key inserted
// before it looked. Old tables stay allocated until the cache is destroyed, since a reader may
// still be probing one. A writer publishes a key with a release store after the
// chain's record is complete; a reader that sees it needs nothing else from the record, so relaxed
// loads suffice for the membership test. Removal replaces the key with a tombstone, so probes
// continue past it; inserts reuse tombstones. A reader racing with a removal may still see the old
// key, which at worst skips validating a chain that was valid when it was checked.
//
// Not copyable or movable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lock_class.hpp"

namespace lockdep::detail {

class chain_cache {
 public:
  struct chain {
    std::uint64_t key = 0;  // 0 when the record is free
    // The held classes, bottom first, ending with the new one; in the cache's class storage.
    std::span<const class_index> classes;
  };

  chain_cache(std::size_t max_chains, std::size_t max_chain_hlocks);
  chain_cache(const chain_cache&) = delete;
  chain_cache& operator=(const chain_cache&) = delete;

  // Lock-free.
  bool contains(std::uint64_t key) const {
    const std::atomic<std::uint64_t>* table = table_.load(std::memory_order_acquire);
    return probe(table + 1, table[0].load(std::memory_order_relaxed), key);
  }
  // contains() looking at the key's first two slots only: most keys are found there (the table
  // is at most half full), and without a probe counter the fast path fits in scratch registers.
  // False may mean "further along": the caller then falls back to contains(). Inline: every
  // acquisition of a known chain ends here.
  bool contains_near(std::uint64_t key) const {
    const std::atomic<std::uint64_t>* table = table_.load(std::memory_order_acquire);
    std::size_t mask = table[0].load(std::memory_order_relaxed);
    const std::atomic<std::uint64_t>* slots = table + 1;
    std::uint64_t stored = stored_form(key);
    std::size_t slot = slot_of(stored, mask);
    return slots[slot].load(std::memory_order_acquire) == stored ||
           slots[(slot + 1) & mask].load(std::memory_order_acquire) == stored;
  }

  enum class insert_result { inserted, chains_full, hlocks_full };
  // Records a validated chain (copying `classes`). Graph lock held; `key` must not be present.
  insert_result insert(std::uint64_t key, std::span<const class_index> classes, std::uint32_t* id);
  // Forgets a chain (its record and its key). Graph lock held.
  void remove(std::uint32_t id);
  const chain* record(std::uint32_t id) const;

  std::size_t size() const { return live_chains_; }
  std::size_t slot_count() const { return slot_count_; }
  std::size_t capacity() const { return max_chains_; }
  std::size_t hlocks_used() const { return hlocks_used_; }
  std::size_t hlocks_capacity() const { return max_chain_hlocks_; }

 private:
  static constexpr std::uint64_t empty_slot = 0;
  static constexpr std::uint64_t tombstone = 1;
  // Keys 0 and 1 are reserved for slot states: a stored key has its top bit set, so the cache
  // tells chains apart by 63 bits. One instruction, where nudging the two reserved values away
  // took three on every lookup.
  static std::uint64_t stored_form(std::uint64_t key) { return key | (std::uint64_t{1} << 63); }
  static std::size_t slot_of(std::uint64_t stored, std::size_t mask) {
    // Chain keys are fully mixed (chain_key.hpp), so their low bits index the table as they are.
    return static_cast<std::size_t>(stored) & mask;
  }

  static bool probe(const std::atomic<std::uint64_t>* slots, std::size_t mask, std::uint64_t key);
  // Moves every live key into a fresh table of `slot_count` slots, dropping tombstones.
  void rehash(std::size_t slot_count);
  // Makes room for one more key: grows (or clears tombstones) when the table would be more
  // than half used.
  void reserve_one();

  std::size_t max_chains_;
  std::size_t max_chain_hlocks_;
  std::size_t max_slot_count_;  // the table never grows past twice max_chains
  std::size_t slot_count_;
  std::size_t tombstones_ = 0;
  // The current table: [0] is the mask, [1..] the slots.
  std::atomic<std::atomic<std::uint64_t>*> table_;
  // Every table ever used, the current one last: readers may still probe an old one.
  std::vector<std::unique_ptr<std::atomic<std::uint64_t>[]>> tables_;
  // Room for `length` classes in class_storage_: a freed block of that length, else fresh space
  // at the end, else part of a longer freed block. Returns the offset, or npos when full.
  std::size_t allocate_classes(std::size_t length);
  static constexpr std::size_t npos = ~std::size_t{0};

  // Every chain's classes, as the kernel's chain_hlocks[]: one array sized by max_chain_hlocks
  // (allocated, not touched, up front, so it never moves and records can point into it), used
  // from the front; freed blocks are kept per length for reuse.
  std::unique_ptr<class_index[]> class_storage_;
  std::size_t class_storage_end_ = 0;
  std::vector<std::vector<std::uint32_t>> free_blocks_;  // offsets, indexed by block length
  std::vector<chain> records_;  // index = chain id - 1; reserved for max_chains up front
  std::vector<std::uint32_t> free_records_;
  std::size_t live_chains_ = 0;
  std::size_t hlocks_used_ = 0;
};

}  // namespace lockdep::detail

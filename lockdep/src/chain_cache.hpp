// The lock-chain cache: the set of chain keys (hashes of held-class sequences) already validated.
//
// A hit means this exact sequence of held classes was validated before, so the acquisition
// needs no graph work at all; this is what makes the common path cheap.
//
// Protocol: lookups are lock-free and may run on any thread at any time; inserts and removals
// happen only under the graph lock (one writer). The table is open addressing over atomic
// 64-bit keys. It starts small and doubles as chains are added (up to twice max_chains slots),
// so a program's working set of chains stays dense in the cache instead of scattered over the
// largest table it could ever need. The table is published as one word (table_word): the
// slots' address with the shift that maps a key to its home slot in the low bits, so a reader
// gets a consistent address and size from one load, and the fast path, which reads the word
// from fast_path_view, is two dependent loads away from its answer. Growing fills the new
// table completely, then publishes it with a release store: a reader finds every key inserted
// before it looked. Old tables stay allocated until the cache is destroyed, since a reader may
// still be probing one. A writer publishes a key with a release store after the chain's
// record is complete; a reader that sees it needs nothing else from the record. Removal
// replaces the key with a tombstone, so probes continue past it; inserts reuse tombstones. A
// reader racing with a removal may still see the old key, which at worst skips validating a
// chain that was valid when it was checked.
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
#include "reserved_array.hpp"

namespace lockdep::detail {

class chain_cache {
 public:
  struct chain {
    std::uint64_t key = 0;  // 0 when the record is free
    // The held classes, bottom first, ending with the new one; in the cache's class storage.
    std::span<const class_index> classes;
  };

  // The table is published to `publish_to` (the fast path's view) if given, else kept here.
  chain_cache(std::size_t max_chains, std::size_t max_chain_hlocks,
              std::atomic<std::uintptr_t>* publish_to = nullptr);
  chain_cache(const chain_cache&) = delete;
  chain_cache& operator=(const chain_cache&) = delete;

  // Lock-free.
  bool contains(std::uint64_t key) const {
    return probe(published_->load(std::memory_order_acquire), key);
  }
  // contains() looking at the key's first four slots only, in the table `table_word` (the
  // published word): almost every key is found there (the table is at most half full), and
  // without a probe counter or a wrap-around the fast path fits in a few scratch registers.
  // False may mean "further along": the caller then falls back to contains(), which costs a
  // call into the full path (two slots left 4% of a 1000-lock program's time there). Inline:
  // every acquisition of a known chain ends here, most at the first slot.
  static bool contains_near(std::uintptr_t table_word, std::uint64_t key) {
    const std::atomic<std::uint64_t>* slots = slots_of(table_word);
    std::uint64_t stored = stored_form(key);
    std::size_t slot = home_slot(stored, table_word);
    // slots[slot + 3] exists for the last slot too: the table ends with an empty sentinel block.
    return slots[slot].load(std::memory_order_acquire) == stored ||
           slots[slot + 1].load(std::memory_order_acquire) == stored ||
           slots[slot + 2].load(std::memory_order_acquire) == stored ||
           slots[slot + 3].load(std::memory_order_acquire) == stored;
  }

  enum class insert_result { inserted, chains_full, hlocks_full };
  // Records a validated chain (copying `classes`). Graph lock held; `key` must not be present.
  insert_result insert(std::uint64_t key, std::span<const class_index> classes, std::uint32_t* id);
  // Forgets a chain (its record and its key). Graph lock held.
  void remove(std::uint32_t id);
  const chain* record(std::uint32_t id) const;
  // Chain ids run from 1 to this (some may be free).
  std::uint32_t last_id() const { return static_cast<std::uint32_t>(records_.constructed()); }

  std::size_t size() const { return live_chains_; }
  std::size_t slot_count() const { return slot_count_; }
  std::size_t capacity() const { return max_chains_; }
  std::size_t hlocks_used() const { return hlocks_used_; }
  std::size_t hlocks_capacity() const { return max_chain_hlocks_; }

 private:
  static constexpr std::uint64_t empty_slot = 0;
  static constexpr std::uint64_t tombstone = 2;
  // Keys 0 and 2 are reserved for slot states: a stored key has its low bit set, so the cache
  // tells chains apart by 63 bits. One instruction, where nudging the reserved values away
  // took three on every lookup.
  static std::uint64_t stored_form(std::uint64_t key) { return key | 1; }

  // The table word: the slots' address, 64-byte aligned, with 64 - log2(slot count) in its six
  // low bits. A key's home slot is its top bits (its best-mixed bits, chain_key.hpp), so
  // one shift finds it, with no mask to load.
  static constexpr std::uintptr_t shift_bits = 63;
  static const std::atomic<std::uint64_t>* slots_of(std::uintptr_t table_word) {
    return reinterpret_cast<const std::atomic<std::uint64_t>*>(table_word & ~shift_bits);
  }
  static std::size_t home_slot(std::uint64_t stored, std::uintptr_t table_word) {
    return static_cast<std::size_t>(stored >> (table_word & shift_bits));
  }
  static std::size_t slot_count_of(std::uintptr_t table_word) {
    return std::size_t{1} << (64 - (table_word & shift_bits));
  }

  // Slots come in cache-line blocks, so the table is 64-byte aligned and its word has room for
  // the shift.
  static constexpr std::size_t slots_per_block = 8;
  struct alignas(64) slot_block {
    std::atomic<std::uint64_t> slots[slots_per_block];
  };
  // A table of `slot_count` empty slots (a power of two, at least 64) and an empty sentinel,
  // carved from table_region_ after the tables before it.
  slot_block* empty_table(std::size_t slot_count);
  static std::uintptr_t table_word_of(const slot_block* table, std::size_t slot_count);
  // The current table's slots, for the writer.
  std::atomic<std::uint64_t>* slots() { return table_->slots; }

  static bool probe(std::uintptr_t table_word, std::uint64_t key);
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
  std::uintptr_t table_word_ = 0;  // the current table's word, for the writer
  // Where readers find it: here, or in the fast path's view.
  std::atomic<std::uintptr_t> own_table_word_{0};
  std::atomic<std::uintptr_t>* published_;
  // Every table ever used, one after the other, the current one last: readers may still probe
  // an old one, so none is freed before the cache. One reservation rather than a mapping per
  // table, so that its memory comes in huge pages (reserved_array): a fresh 4 KiB page costs
  // microseconds on its first touch in a virtual machine, whatever was done to commit it.
  // Sized for every doubling up to the largest table and one rebuild at that size; a table that
  // does not fit (rebuilds to clear tombstones, again and again) gets a mapping of its own.
  reserved_array<slot_block> table_region_;
  struct unmap_table {
    std::size_t bytes;
    void operator()(slot_block* table) const;
  };
  std::vector<std::unique_ptr<slot_block[], unmap_table>> overflow_tables_;
  slot_block* table_ = nullptr;  // the current table
  // Room for `length` classes in class_storage_: a freed block of that length, else fresh space
  // at the end, else part of a longer freed block. Returns the offset, or npos when full.
  std::size_t allocate_classes(std::size_t length);
  static constexpr std::size_t npos = ~std::size_t{0};

  // Every chain's classes, as the kernel's chain_hlocks[]: one array sized by max_chain_hlocks
  // (reserved, not touched, up front, so it never moves and records can point into it), used
  // from the front; freed blocks are kept per length for reuse.
  reserved_array<class_index> class_storage_;
  std::size_t class_storage_end_ = 0;
  std::vector<std::vector<std::uint32_t>> free_blocks_;  // offsets, indexed by block length
  // Index = chain id - 1; reserved for max_chains up front, so records never move.
  reserved_array<chain> records_;
  std::vector<std::uint32_t> free_records_;
  std::size_t live_chains_ = 0;
  std::size_t hlocks_used_ = 0;
};

}  // namespace lockdep::detail

#include "lock_pages.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>
#include <new>

#include "mapped_chunks.hpp"
#include "spin_lock.hpp"

namespace lockdep::preload {
namespace {

constexpr unsigned page_shift = 12;
constexpr std::uintptr_t page_bytes = std::uintptr_t{1} << page_shift;
constexpr unsigned slot_shift = 2;  // 4-byte slots
constexpr std::size_t slots_per_page = page_bytes >> slot_shift;
constexpr std::size_t words_per_page = slots_per_page / 64;
constexpr unsigned bucket_bits = 16;
constexpr std::size_t bucket_count = std::size_t{1} << bucket_bits;
constexpr std::size_t shard_count = 256;

// One page's occupancy. `page` is the page number; no lock lives on page 0 (the null page).
struct page_entry {
  std::atomic<std::uintptr_t> page{0};
  std::atomic<page_entry*> next{nullptr};    // the bucket's chain
  std::atomic<page_entry*> listed{nullptr};  // every entry, newest first (range walks)
  std::atomic<std::uint64_t> slots[words_per_page] = {};
};

// Zero-initialised statics: usable before any constructor runs, and in a forked child.
constinit std::atomic<page_entry*> buckets[bucket_count] = {};
constinit spin_lock shard_locks[shard_count];
constinit std::atomic<page_entry*> all_entries{nullptr};
constinit std::atomic<std::size_t> entry_count{0};

// Entries are carved from anonymous mappings and never given back.
class entry_chunks {
 public:
  page_entry* take() {
    spin_guard guard(lock_);
    return chunks_.carve();
  }
  spin_lock& lock() { return lock_; }

 private:
  spin_lock lock_;
  mapped_chunks<page_entry> chunks_;
};

constinit entry_chunks chunks;

std::size_t bucket_of(std::uintptr_t page) {
  return static_cast<std::size_t>((page * 0x9e3779b97f4a7c15ull) >> (64 - bucket_bits));
}

page_entry* find_entry(std::uintptr_t page) {
  for (page_entry* at = buckets[bucket_of(page)].load(std::memory_order_acquire); at != nullptr;
       at = at->next.load(std::memory_order_acquire)) {
    if (at->page.load(std::memory_order_relaxed) == page) return at;
  }
  return nullptr;
}

page_entry* find_or_add_entry(std::uintptr_t page) {
  if (page_entry* found = find_entry(page)) return found;
  const std::size_t bucket = bucket_of(page);
  spin_guard guard(shard_locks[bucket % shard_count]);
  if (page_entry* found = find_entry(page)) return found;  // added meanwhile
  page_entry* added = chunks.take();
  if (added == nullptr) return nullptr;
  added->page.store(page, std::memory_order_relaxed);
  added->next.store(buckets[bucket].load(std::memory_order_relaxed), std::memory_order_relaxed);
  buckets[bucket].store(added, std::memory_order_release);
  // The walk list is pushed without a lock of its own: entries are only ever added.
  page_entry* head = all_entries.load(std::memory_order_relaxed);
  do {
    added->listed.store(head, std::memory_order_relaxed);
  } while (!all_entries.compare_exchange_weak(head, added, std::memory_order_release,
                                              std::memory_order_relaxed));
  entry_count.fetch_add(1, std::memory_order_relaxed);
  return added;
}

struct slot_position {
  std::size_t word;
  std::uint64_t bit;
};

slot_position position_of(std::uintptr_t address) {
  const std::size_t slot = (address & (page_bytes - 1)) >> slot_shift;
  return {slot / 64, std::uint64_t{1} << (slot % 64)};
}

// A half-open address range, its end clamped so that it never wraps.
struct address_range {
  std::uintptr_t begin;
  std::uintptr_t end;

  address_range(const void* start, std::size_t size)
      : begin(reinterpret_cast<std::uintptr_t>(start)),
        end(size > std::numeric_limits<std::uintptr_t>::max() - begin ? std::uintptr_t(-1)
                                                                      : begin + size) {}
  std::uintptr_t first_page() const { return begin >> page_shift; }
  std::uintptr_t last_page() const { return (end - 1) >> page_shift; }
  std::uintptr_t page_count() const { return last_page() - first_page() + 1; }
};

// Calls visit(address) for each tracked object in `entry`'s page that starts inside `range`,
// until visit returns false. Returns false if it was stopped.
template <class Visit>
bool visit_page(const page_entry& entry, const address_range& range, Visit visit) {
  const std::uintptr_t page = entry.page.load(std::memory_order_relaxed);
  const std::uintptr_t page_start = page << page_shift;
  // Slots whose address lies in [begin, end): the first at or above begin, up to below end.
  const std::uintptr_t from = std::max(range.begin, page_start) - page_start;
  const std::uintptr_t to = std::min(range.end - page_start, page_bytes);
  const std::size_t first_slot = (from + (1 << slot_shift) - 1) >> slot_shift;
  const std::size_t end_slot = (to + (1 << slot_shift) - 1) >> slot_shift;
  for (std::size_t word = first_slot / 64; word * 64 < end_slot; ++word) {
    std::uint64_t bits = entry.slots[word].load(std::memory_order_acquire);
    if (bits == 0) continue;
    const std::size_t word_first = word * 64;
    if (first_slot > word_first) bits &= ~std::uint64_t{0} << (first_slot - word_first);
    if (end_slot < word_first + 64) bits &= (std::uint64_t{1} << (end_slot - word_first)) - 1;
    while (bits != 0) {
      const std::size_t slot = word_first + static_cast<std::size_t>(std::countr_zero(bits));
      bits &= bits - 1;
      if (!visit(page_start + (slot << slot_shift))) return false;
    }
  }
  return true;
}

// visit_page over every page entry that overlaps `range`.
template <class Visit>
void visit_range(const address_range& range, Visit visit) {
  if (range.end <= range.begin) return;
  // A range of more pages than there are entries: walk the entries instead.
  if (range.page_count() > entry_count.load(std::memory_order_relaxed)) {
    for (page_entry* at = all_entries.load(std::memory_order_acquire); at != nullptr;
         at = at->listed.load(std::memory_order_relaxed)) {
      const std::uintptr_t page = at->page.load(std::memory_order_relaxed);
      if (page < range.first_page() || page > range.last_page()) continue;
      if (!visit_page(*at, range, visit)) return;
    }
    return;
  }
  for (std::uintptr_t page = range.first_page(); page <= range.last_page(); ++page) {
    if (const page_entry* entry = find_entry(page)) {
      if (!visit_page(*entry, range, visit)) return;
    }
    if (page == std::numeric_limits<std::uintptr_t>::max() >> page_shift) return;
  }
}

}  // namespace

bool lock_pages_add(const void* object) {
  const auto address = reinterpret_cast<std::uintptr_t>(object);
  page_entry* entry = find_or_add_entry(address >> page_shift);
  if (entry == nullptr) return false;
  const slot_position at = position_of(address);
  entry->slots[at.word].fetch_or(at.bit, std::memory_order_release);
  return true;
}

void lock_pages_remove(const void* object) {
  const auto address = reinterpret_cast<std::uintptr_t>(object);
  page_entry* entry = find_entry(address >> page_shift);
  if (entry == nullptr) return;
  const slot_position at = position_of(address);
  entry->slots[at.word].fetch_and(~at.bit, std::memory_order_release);
}

bool lock_pages_any_in(const void* begin, std::size_t size) {
  const address_range range(begin, size);
  if (range.end <= range.begin) return false;
  // Most blocks freed lie in one page, and most pages hold no lock: one lookup answers.
  if (range.page_count() == 1) {
    const page_entry* entry = find_entry(range.first_page());
    if (entry == nullptr) return false;
    bool found = false;
    visit_page(*entry, range, [&](std::uintptr_t) {
      found = true;
      return false;
    });
    return found;
  }
  bool found = false;
  visit_range(range, [&](std::uintptr_t) {
    found = true;
    return false;
  });
  return found;
}

void lock_pages_for_each_in(const void* begin, std::size_t size,
                            void (*visit)(const void* object, void* context), void* context) {
  visit_range(address_range(begin, size), [&](std::uintptr_t address) {
    visit(reinterpret_cast<const void*>(address), context);
    return true;
  });
}

void lock_pages_lock_for_fork() {
  for (spin_lock& lock : shard_locks) lock.lock();
  chunks.lock().lock();
}

void lock_pages_unlock_after_fork() {
  chunks.lock().unlock();
  for (spin_lock& lock : shard_locks) lock.unlock();
}

}  // namespace lockdep::preload

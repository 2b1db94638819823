// The area map of one per-CPU chunk (mm/percpu.c, 5.7): which 4-byte granules of a unit are
// allocated, where each allocation starts and ends, per-page metadata hints that make finding a
// fit fast, and which pages are populated.
//
// Metadata only: the memory itself (one unit per possible CPU) belongs to the allocator, which
// applies every offset returned here to each CPU's unit. Offsets are bytes from the unit start.
// Not thread-safe (the allocator calls it under pcpu_lock). Not copyable; movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pcpu_bitmap.hpp"

namespace lockdep::mm {

inline constexpr int PAGE_SIZE = 4096;
inline constexpr int PCPU_MIN_ALLOC_SHIFT = 2;
inline constexpr int PCPU_MIN_ALLOC_SIZE = 1 << PCPU_MIN_ALLOC_SHIFT;  // bytes per bit
inline constexpr int PCPU_BITMAP_BLOCK_SIZE = PAGE_SIZE;
inline constexpr int PCPU_BITMAP_BLOCK_BITS = PCPU_BITMAP_BLOCK_SIZE >> PCPU_MIN_ALLOC_SHIFT;

// The kernel's struct pcpu_block_md: hints for one block (page) or for the whole chunk. Units
// are bits (4-byte granules).
struct pcpu_block_md {
  int scan_hint = 0;
  int scan_hint_start = 0;
  int contig_hint = 0;
  int contig_hint_start = 0;
  int left_free = 0;
  int right_free = 0;
  int first_free = 0;
  int nr_bits = 0;
};

class pcpu_chunk_map {
 public:
  // A dynamic chunk: nr_pages pages, all free, none populated.
  explicit pcpu_chunk_map(int nr_pages);
  // The first chunk (pcpu_alloc_first_chunk): `start_offset` bytes at the head and `end_offset`
  // bytes at the tail are hidden (marked allocated), every page is populated, and the chunk is
  // immutable (never populated or depopulated).
  pcpu_chunk_map(int nr_pages, int start_offset, int end_offset);

  pcpu_chunk_map(const pcpu_chunk_map&) = delete;
  pcpu_chunk_map& operator=(const pcpu_chunk_map&) = delete;
  pcpu_chunk_map(pcpu_chunk_map&&) = default;
  pcpu_chunk_map& operator=(pcpu_chunk_map&&) = default;

  // pcpu_find_block_fit: a starting bit from which alloc_area can find `alloc_bits` free bits
  // aligned to `align_bits`, or -1. With `pop_only`, only areas whose pages are all populated.
  int find_block_fit(int alloc_bits, int align_bits, bool pop_only) const;
  // pcpu_alloc_area: allocates from `start` (a find_block_fit result); the byte offset, or -1.
  int alloc_area(int alloc_bits, int align_bits, int start);
  // pcpu_free_area: frees the allocation starting at `byte_offset`; the bytes freed, or -1 when
  // no allocation starts there (never allocated, or already freed: a double free).
  int free_area(int byte_offset);

  // Population (pcpu_chunk_populated / pcpu_chunk_depopulated): pages [start, end).
  void mark_populated(int page_start, int page_end);
  void mark_depopulated(int page_start, int page_end);
  bool is_populated(int page) const;
  // The next run of unpopulated pages at or after `from`, within [from, end): writes
  // [*run_start, *run_end) and returns true, or returns false when there is none.
  bool next_unpopulated(int from, int end, int* run_start, int* run_end) const;
  // The next run of populated pages, likewise.
  bool next_populated(int from, int end, int* run_start, int* run_end) const;

  int nr_pages() const;
  int nr_populated() const;
  int nr_empty_pop_pages() const;  // populated pages with nothing allocated in them
  int free_bytes() const;
  int contig_hint_bytes() const;  // the largest free run known, in bytes (chunk_md.contig_hint)
  bool immutable() const;
  const pcpu_block_md& chunk_md() const;
  const pcpu_block_md& block_md(int page) const;

  // Test support: recomputes every hint and counter from the bitmaps and returns a description
  // of the first inconsistency, or an empty string.
  std::string check_invariants() const;

 private:
  int map_bits() const { return nr_pages_ * PCPU_BITMAP_BLOCK_BITS; }
  // The byte range [start_offset_, dynamic_end()) that allocations can come from.
  int dynamic_end() const { return nr_pages_ * PAGE_SIZE - end_offset_; }
  // A page whose block has nothing allocated and that is populated: what nr_empty_pop_pages
  // counts.
  bool is_empty_populated(int index) const;
  // Hides [bit_off, bit_off + bits) as allocated, as pcpu_alloc_first_chunk does.
  void hide_area(int bit_off, int bits);

  // The block-relative searches the kernel does with pcpu_index_alloc_map(chunk, index).
  int block_next_bit(int index, int start) const;
  int block_next_zero_bit(int index, int start) const;
  int block_last_bit(int index, int size) const;

  // pcpu_find_block_fit's iteration (pcpu_chunk_map.cpp).
  void next_fit_region(int alloc_bits, int align, int* bit_off, int* bits) const;
  bool is_populated_area(int bit_off, int bits, int* next_off) const;
  int find_zero_area(int size, int start, int nr, int align_mask, int* largest_off,
                     int* largest_bits) const;

  // Hint maintenance (pcpu_block_hints.cpp).
  void next_md_free_region(int* bit_off, int* bits) const;
  void block_update_scan(int bit_off, int bits);
  int block_longest_run(int index, int from, int to) const;
  void block_scan_free_runs(int index, int start);
  void block_refresh_hint(int index);
  void chunk_refresh_hint(bool full_scan);
  void block_update_hint_alloc(int bit_off, int bits);
  void block_update_hint_free(int bit_off, int bits);

  // check_invariants' parts (pcpu_chunk_invariants.cpp).
  std::string check_counters() const;
  std::string check_block(int index) const;
  std::string check_chunk_md() const;
  std::string check_bound_map() const;

  int nr_pages_;
  int start_offset_ = 0;  // bytes hidden at the head (first chunk only)
  int end_offset_ = 0;    // bytes hidden at the tail (first chunk only)
  bool immutable_ = false;
  int free_bytes_;
  int nr_populated_ = 0;
  int nr_empty_pop_pages_ = 0;
  pcpu_bitmap alloc_map_;  // map_bits bits, 1 = allocated
  pcpu_bitmap bound_map_;  // map_bits + 1 bits, set at each allocation's start and end
  pcpu_bitmap populated_;  // one bit per page
  pcpu_block_md chunk_md_;
  std::vector<pcpu_block_md> md_blocks_;  // one per page
};

}  // namespace lockdep::mm

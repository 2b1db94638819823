// pcpu_chunk_map: construction, finding a fit, allocating and freeing areas, and population
// bookkeeping (mm/percpu.c, 5.7). The hint maintenance these call lives in pcpu_block_hints.cpp;
// check_invariants in pcpu_chunk_invariants.cpp.
//
// Preconditions the kernel leaves to its callers (sizes, alignments, page ranges) are asserted;
// free_area is the exception, because a bad free is a user error the allocator must report.
#include <algorithm>
#include <bit>
#include <cassert>

#include "pcpu_chunk_map.hpp"

namespace lockdep::mm {

namespace {

// The kernel's ALIGN(): round up to a power of two.
int align_up(int value, int align) {
  return (value + align - 1) & ~(align - 1);
}

// Only asserted, so unused in a release build.
[[maybe_unused]] bool valid_alignment(int align_bits) {
  return align_bits > 0 && align_bits <= PCPU_BITMAP_BLOCK_BITS &&
         (align_bits & (align_bits - 1)) == 0;
}

void pcpu_init_md_block(pcpu_block_md& block, int nr_bits) {
  block = pcpu_block_md{};
  block.contig_hint = nr_bits;
  block.left_free = nr_bits;
  block.right_free = nr_bits;
  block.nr_bits = nr_bits;
}

// pcpu_next_hint: where to start scanning a block (or the chunk) for `alloc_bits`. Normally
// first_free, for first fit; but when the scan hint is too small for the request and lies
// before the contig hint, the free runs up to its end are taken to be no larger, so skip them.
int pcpu_next_hint(const pcpu_block_md& block, int alloc_bits) {
  if (block.scan_hint != 0 && block.contig_hint_start > block.scan_hint_start &&
      alloc_bits > block.scan_hint) {
    return block.scan_hint_start + block.scan_hint;
  }
  return block.first_free;
}

}  // namespace

pcpu_chunk_map::pcpu_chunk_map(int nr_pages)
    : nr_pages_(nr_pages),
      free_bytes_(nr_pages * PAGE_SIZE),
      alloc_map_(map_bits()),
      bound_map_(map_bits() + 1),
      populated_(nr_pages),
      md_blocks_(static_cast<std::size_t>(nr_pages)) {
  assert(nr_pages > 0);
  pcpu_init_md_block(chunk_md_, map_bits());
  for (pcpu_block_md& block : md_blocks_) pcpu_init_md_block(block, PCPU_BITMAP_BLOCK_BITS);
}

pcpu_chunk_map::pcpu_chunk_map(int nr_pages, int start_offset, int end_offset)
    : pcpu_chunk_map(nr_pages) {
  assert(start_offset >= 0 && start_offset % PCPU_MIN_ALLOC_SIZE == 0);
  assert(end_offset >= 0 && end_offset % PCPU_MIN_ALLOC_SIZE == 0);
  assert(start_offset + end_offset < nr_pages * PAGE_SIZE);  // something left to serve
  start_offset_ = start_offset;
  end_offset_ = end_offset;
  immutable_ = true;

  // Every page is backed from boot; hiding the head and tail below then takes away the empty
  // pages it touches, through the ordinary allocation hint update.
  populated_.set_range(0, nr_pages);
  nr_populated_ = nr_pages;
  nr_empty_pop_pages_ = nr_pages;
  free_bytes_ = nr_pages * PAGE_SIZE - start_offset - end_offset;

  if (start_offset != 0) {
    int offset_bits = start_offset / PCPU_MIN_ALLOC_SIZE;
    chunk_md_.first_free = offset_bits;
    hide_area(0, offset_bits);
  }
  if (end_offset != 0) {
    int offset_bits = end_offset / PCPU_MIN_ALLOC_SIZE;
    hide_area(map_bits() - offset_bits, offset_bits);
  }
}

void pcpu_chunk_map::hide_area(int bit_off, int bits) {
  // Like an allocation, bounds included, but free_bytes already excludes it and free_area
  // refuses offsets outside [start_offset_, dynamic_end()), so it can never be freed.
  alloc_map_.set_range(bit_off, bits);
  bound_map_.set(bit_off);
  bound_map_.set(bit_off + bits);
  block_update_hint_alloc(bit_off, bits);
}

int pcpu_chunk_map::find_block_fit(int alloc_bits, int align_bits, bool pop_only) const {
  assert(alloc_bits > 0 && valid_alignment(align_bits));

  // Refuse without scanning what the chunk contig hint cannot hold aligned. The hint may lag
  // low, so this can refuse a fit that exists: the kernel accepts that, as a chunk this full
  // is about to be passed over for another anyway.
  int bit_off = align_up(chunk_md_.contig_hint_start, align_bits) - chunk_md_.contig_hint_start;
  if (bit_off + alloc_bits > chunk_md_.contig_hint) return -1;

  bit_off = pcpu_next_hint(chunk_md_, alloc_bits);
  int bits = 0;
  for (next_fit_region(alloc_bits, align_bits, &bit_off, &bits); bit_off < map_bits();
       bit_off += bits, next_fit_region(alloc_bits, align_bits, &bit_off, &bits)) {
    int next_off = 0;
    if (!pop_only || is_populated_area(bit_off, bits, &next_off)) break;
    // Resume after the unpopulated pages that spoiled this candidate.
    bit_off = next_off;
    bits = 0;
  }
  return bit_off >= map_bits() ? -1 : bit_off;
}

// pcpu_next_fit_region: from *bit_off, the next region the block hints say can hold
// `alloc_bits` at `align`: a run carried from one block's right_free into the next blocks'
// left_free, a block's contig hint (returned from the block's first_free, or past its scan
// hint, so alloc_area can still fit first), or a block's aligned right_free tail. *bits is the
// span from *bit_off that the fit lies in. *bit_off = map_bits() when there is none.
void pcpu_chunk_map::next_fit_region(int alloc_bits, int align, int* bit_off, int* bits) const {
  int index = *bit_off / PCPU_BITMAP_BLOCK_BITS;
  int block_off = *bit_off % PCPU_BITMAP_BLOCK_BITS;

  *bits = 0;
  for (; index < nr_pages_; ++index) {
    const pcpu_block_md& block = md_blocks_[static_cast<std::size_t>(index)];
    if (*bits != 0) {
      *bits += block.left_free;
      if (*bits >= alloc_bits) return;
      if (block.left_free == PCPU_BITMAP_BLOCK_BITS) continue;
    }

    // The contig hint, unless it lies before where this search started in the block.
    *bits = align_up(block.contig_hint_start, align) - block.contig_hint_start;
    if (block.contig_hint != 0 && block.contig_hint_start >= block_off &&
        block.contig_hint >= *bits + alloc_bits) {
      int start = pcpu_next_hint(block, alloc_bits);
      *bits += alloc_bits + block.contig_hint_start - start;
      *bit_off = index * PCPU_BITMAP_BLOCK_BITS + start;
      return;
    }
    block_off = 0;

    // The aligned tail, which may also begin a run carried into the next block.
    int tail_off = align_up(PCPU_BITMAP_BLOCK_BITS - block.right_free, align);
    *bits = PCPU_BITMAP_BLOCK_BITS - tail_off;
    *bit_off = index * PCPU_BITMAP_BLOCK_BITS + tail_off;
    if (*bits >= alloc_bits) return;
  }
  *bit_off = map_bits();
}

// pcpu_is_populated: whether every page under [bit_off, bit_off + bits) is populated; if not,
// *next_off is the bit after the first unpopulated run found there.
bool pcpu_chunk_map::is_populated_area(int bit_off, int bits, int* next_off) const {
  int page_start = bit_off * PCPU_MIN_ALLOC_SIZE / PAGE_SIZE;
  int page_end = ((bit_off + bits) * PCPU_MIN_ALLOC_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
  int run_start = populated_.find_next_zero_bit(page_end, page_start);
  if (run_start >= page_end) return true;
  int run_end = populated_.find_next_bit(page_end, run_start + 1);
  *next_off = run_end * PCPU_BITMAP_BLOCK_BITS;
  return false;
}

// pcpu_find_zero_area: bitmap_find_next_zero_area with alignment, searching [start, size) for
// `nr` clear bits whose start is aligned by `align_mask`. Returns the start, or a value past
// `size` when there is none. Remembers the largest free area it skipped (preferring the better
// aligned one on ties) so alloc_area can record it as a scan hint.
int pcpu_chunk_map::find_zero_area(int size, int start, int nr, int align_mask, int* largest_off,
                                   int* largest_bits) const {
  for (;;) {
    int index = alloc_map_.find_next_zero_bit(size, start);
    index = (index + align_mask) & ~align_mask;
    int end = index + nr;
    if (end > size) return end;
    int busy = alloc_map_.find_next_bit(end, index);
    if (busy >= end) return index;

    int area_bits = busy - index;
    bool better_aligned = *largest_off != 0 &&
                          (index == 0 || std::countr_zero(static_cast<unsigned>(index)) >
                                             std::countr_zero(static_cast<unsigned>(*largest_off)));
    if (area_bits > *largest_bits || (area_bits == *largest_bits && better_aligned)) {
      *largest_off = index;
      *largest_bits = area_bits;
    }
    start = busy + 1;
  }
}

int pcpu_chunk_map::alloc_area(int alloc_bits, int align_bits, int start) {
  assert(alloc_bits > 0 && valid_alignment(align_bits));
  assert(start >= 0 && start < map_bits());

  // find_block_fit guarantees a fit within a block's reach of `start`, so the scan is bounded.
  int end = std::min(start + alloc_bits + PCPU_BITMAP_BLOCK_BITS, map_bits());
  int largest_off = 0;
  int largest_bits = 0;
  int bit_off = find_zero_area(end, start, alloc_bits, align_bits - 1, &largest_off, &largest_bits);
  if (bit_off >= end) return -1;
  if (largest_bits != 0) block_update_scan(largest_off, largest_bits);

  alloc_map_.set_range(bit_off, alloc_bits);
  // Interior bound bits may be left over from earlier, freed allocations.
  bound_map_.set(bit_off);
  bound_map_.clear_range(bit_off + 1, alloc_bits - 1);
  bound_map_.set(bit_off + alloc_bits);
  free_bytes_ -= alloc_bits * PCPU_MIN_ALLOC_SIZE;

  if (bit_off == chunk_md_.first_free) {
    chunk_md_.first_free = alloc_map_.find_next_zero_bit(map_bits(), bit_off + alloc_bits);
  }
  block_update_hint_alloc(bit_off, alloc_bits);
  return bit_off * PCPU_MIN_ALLOC_SIZE;
}

int pcpu_chunk_map::free_area(int byte_offset) {
  // The kernel trusts its caller here; the model refuses anything that is not the start of a
  // live allocation, so a double or wild free is reported instead of corrupting the map. The
  // first chunk's hidden head and tail lie outside [start_offset_, dynamic_end()).
  if (byte_offset < start_offset_ || byte_offset >= dynamic_end()) return -1;
  if (byte_offset % PCPU_MIN_ALLOC_SIZE != 0) return -1;
  int bit_off = byte_offset / PCPU_MIN_ALLOC_SIZE;
  // Inside a live allocation every bound bit but its start is clear, so a set bound bit on an
  // allocated granule marks an allocation's start. Stale bound bits only lie on free granules.
  if (!alloc_map_.test(bit_off) || !bound_map_.test(bit_off)) return -1;

  int end = bound_map_.find_next_bit(map_bits(), bit_off + 1);
  int bits = end - bit_off;
  alloc_map_.clear_range(bit_off, bits);
  // The bound bits stay: harmless, as in the kernel.
  free_bytes_ += bits * PCPU_MIN_ALLOC_SIZE;
  chunk_md_.first_free = std::min(chunk_md_.first_free, bit_off);
  block_update_hint_free(bit_off, bits);
  return bits * PCPU_MIN_ALLOC_SIZE;
}

// pcpu_chunk_populated. The kernel adds every newly populated page to nr_empty_pop_pages and
// relies on the allocation hint update having already subtracted the pages an allocation
// touched, whether populated or not; the model counts only pages that are empty and populated,
// which gives the same numbers whenever, as in the kernel, allocated pages end up populated.
void pcpu_chunk_map::mark_populated(int page_start, int page_end) {
  assert(!immutable_);
  assert(page_start >= 0 && page_start <= page_end && page_end <= nr_pages_);
  for (int page = page_start; page < page_end; ++page) {
    if (populated_.test(page)) continue;
    populated_.set(page);
    ++nr_populated_;
    if (is_empty_populated(page)) ++nr_empty_pop_pages_;
  }
}

// pcpu_chunk_depopulated, counting as mark_populated does.
void pcpu_chunk_map::mark_depopulated(int page_start, int page_end) {
  assert(!immutable_);
  assert(page_start >= 0 && page_start <= page_end && page_end <= nr_pages_);
  for (int page = page_start; page < page_end; ++page) {
    if (!populated_.test(page)) continue;
    if (is_empty_populated(page)) --nr_empty_pop_pages_;
    populated_.clear(page);
    --nr_populated_;
  }
}

bool pcpu_chunk_map::is_populated(int page) const {
  assert(page >= 0 && page < nr_pages_);
  return populated_.test(page);
}

bool pcpu_chunk_map::next_unpopulated(int from, int end, int* run_start, int* run_end) const {
  assert(from >= 0 && end <= nr_pages_);
  int start = populated_.find_next_zero_bit(end, from);
  if (start >= end) return false;
  *run_start = start;
  *run_end = populated_.find_next_bit(end, start + 1);
  return true;
}

bool pcpu_chunk_map::next_populated(int from, int end, int* run_start, int* run_end) const {
  assert(from >= 0 && end <= nr_pages_);
  int start = populated_.find_next_bit(end, from);
  if (start >= end) return false;
  *run_start = start;
  *run_end = populated_.find_next_zero_bit(end, start + 1);
  return true;
}

bool pcpu_chunk_map::is_empty_populated(int index) const {
  return md_blocks_[static_cast<std::size_t>(index)].contig_hint == PCPU_BITMAP_BLOCK_BITS &&
         populated_.test(index);
}

int pcpu_chunk_map::block_next_bit(int index, int start) const {
  int base = index * PCPU_BITMAP_BLOCK_BITS;
  return alloc_map_.find_next_bit(base + PCPU_BITMAP_BLOCK_BITS, base + start) - base;
}

int pcpu_chunk_map::block_next_zero_bit(int index, int start) const {
  int base = index * PCPU_BITMAP_BLOCK_BITS;
  return alloc_map_.find_next_zero_bit(base + PCPU_BITMAP_BLOCK_BITS, base + start) - base;
}

int pcpu_chunk_map::block_last_bit(int index, int size) const {
  int base = index * PCPU_BITMAP_BLOCK_BITS;
  return alloc_map_.find_last_bit(base, base + size) - base;
}

int pcpu_chunk_map::nr_pages() const {
  return nr_pages_;
}
int pcpu_chunk_map::nr_populated() const {
  return nr_populated_;
}
int pcpu_chunk_map::nr_empty_pop_pages() const {
  return nr_empty_pop_pages_;
}
int pcpu_chunk_map::free_bytes() const {
  return free_bytes_;
}
int pcpu_chunk_map::contig_hint_bytes() const {
  return chunk_md_.contig_hint * PCPU_MIN_ALLOC_SIZE;
}
bool pcpu_chunk_map::immutable() const {
  return immutable_;
}
const pcpu_block_md& pcpu_chunk_map::chunk_md() const {
  return chunk_md_;
}
const pcpu_block_md& pcpu_chunk_map::block_md(int page) const {
  assert(page >= 0 && page < nr_pages_);
  return md_blocks_[static_cast<std::size_t>(page)];
}

}  // namespace lockdep::mm

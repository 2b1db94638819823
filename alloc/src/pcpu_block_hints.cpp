// Hint maintenance for pcpu_chunk_map (mm/percpu.c, 5.7): keeping each block's and the chunk's
// pcpu_block_md up to date on allocation and free, so that finding a fit reads a few hints
// instead of the bitmap.
//
// Block hints are exact: contig_hint is the largest free run in the block, left_free and
// right_free the runs touching its edges. The chunk hint (chunk_md) is cheaper and may
// under-estimate, but never overstates, what is free.
#include <algorithm>
#include <bit>

#include "pcpu_chunk_map.hpp"

namespace lockdep::mm {

namespace {

// pcpu_region_overlap: whether the hint region [a, b) overlaps the area [x, y).
bool pcpu_region_overlap(int a, int b, int x, int y) {
  return a < y && x < b;
}

// Whether `start` is better aligned than `other` (a larger power of two divides it; 0 best).
bool better_aligned(int start, int other) {
  return start == 0 || std::countr_zero(static_cast<unsigned>(start)) >
                           std::countr_zero(static_cast<unsigned>(other));
}

// pcpu_block_update: records that [start, end) is a whole free run of `block` (block-relative,
// or chunk-relative for chunk_md). The contig hint keeps the largest run, preferring the better
// aligned start on ties. The scan hint keeps the largest run seen before the contig hint, so a
// later scan for something bigger can skip everything up to its end; it may equal the contig
// hint and lie after it, because a forward scan cannot yet tell which of two equal runs to keep.
void pcpu_block_update(pcpu_block_md& block, int start, int end) {
  int contig = end - start;

  block.first_free = std::min(block.first_free, start);
  if (start == 0) block.left_free = contig;
  if (end == block.nr_bits) block.right_free = contig;

  if (contig > block.contig_hint) {
    if (start > block.contig_hint_start) {
      // The old contig hint lies before the new one: it becomes the scan hint if larger.
      if (block.contig_hint > block.scan_hint) {
        block.scan_hint_start = block.contig_hint_start;
        block.scan_hint = block.contig_hint;
      } else if (start <= block.scan_hint_start) {
        // The scan hint equalled the old contig hint and lay after it; now it would lie in or
        // after a larger contig hint. (The kernel tests `<`, which keeps a scan hint starting
        // where the new contig hint starts, inside it: never used to skip, since next_hint
        // wants it before the contig hint, but promoted by the chunk's refresh.)
        block.scan_hint = 0;
      }
    } else {
      block.scan_hint = 0;
    }
    block.contig_hint_start = start;
    block.contig_hint = contig;
  } else if (contig == block.contig_hint) {
    if (block.contig_hint_start != 0 && better_aligned(start, block.contig_hint_start)) {
      // A smaller scan hint must stay before the moved contig hint. (The kernel tests `<`,
      // keeping one that starts where the contig hint now starts, as above.)
      block.contig_hint_start = start;
      if (start <= block.scan_hint_start && block.contig_hint > block.scan_hint) {
        block.scan_hint = 0;
      }
    } else if (start > block.scan_hint_start || block.contig_hint > block.scan_hint) {
      // An equal run farther on, or one larger than the scan hint: remember it.
      block.scan_hint_start = start;
      block.scan_hint = contig;
    }
  } else if (start < block.contig_hint_start &&
             (contig > block.scan_hint ||
              (contig == block.scan_hint && start > block.scan_hint_start))) {
    // Smaller than the contig hint but before it: a better scan hint if larger, or equal and
    // farther.
    block.scan_hint_start = start;
    block.scan_hint = contig;
  }
}

void pcpu_block_mark_full(pcpu_block_md& block) {
  block.scan_hint = 0;
  block.contig_hint = 0;
  block.left_free = 0;
  block.right_free = 0;
  // The kernel leaves first_free as it was (0, since the block was empty); nr_bits keeps it
  // pointing at a free bit or the end, which is equivalent for every search.
  block.first_free = block.nr_bits;
}

void pcpu_block_mark_empty(pcpu_block_md& block) {
  block.first_free = 0;
  block.scan_hint = 0;
  block.contig_hint_start = 0;
  block.contig_hint = block.nr_bits;
  block.left_free = block.nr_bits;
  block.right_free = block.nr_bits;
}

}  // namespace

// pcpu_block_update_scan: alloc_area skipped the free area [bit_off, bit_off + bits) as too
// small (or badly aligned). Record it in its block's hints; the scan started it at an aligned
// bit, so search backwards for the run's real start. Areas spanning blocks are not recorded.
void pcpu_chunk_map::block_update_scan(int bit_off, int bits) {
  int s_off = bit_off % PCPU_BITMAP_BLOCK_BITS;
  int e_off = s_off + bits;
  if (e_off > PCPU_BITMAP_BLOCK_BITS) return;

  int index = bit_off / PCPU_BITMAP_BLOCK_BITS;
  int last_busy = block_last_bit(index, s_off);
  s_off = (last_busy == s_off) ? 0 : last_busy + 1;
  pcpu_block_update(md_blocks_[static_cast<std::size_t>(index)], s_off, e_off);
}

// The longest free run of block `index` within [from, to), in bits.
int pcpu_chunk_map::block_longest_run(int index, int from, int to) const {
  int longest = 0;
  for (int run_start = block_next_zero_bit(index, from); run_start < to;) {
    int run_end = std::min(block_next_bit(index, run_start + 1), to);
    longest = std::max(longest, run_end - run_start);
    run_start = block_next_zero_bit(index, run_end + 1);
  }
  return longest;
}

// Feeds every free run of block `index` from `start` on to pcpu_block_update.
void pcpu_chunk_map::block_scan_free_runs(int index, int start) {
  pcpu_block_md& block = md_blocks_[static_cast<std::size_t>(index)];
  for (int run_start = block_next_zero_bit(index, start); run_start < PCPU_BITMAP_BLOCK_BITS;) {
    int run_end = block_next_bit(index, run_start + 1);
    pcpu_block_update(block, run_start, run_end);
    run_start = block_next_zero_bit(index, run_end + 1);
  }
}

// pcpu_block_refresh_hint: rebuilds a block's hints after an allocation broke its contig hint.
// The scan hint is taken to be the largest run before its end, so it is promoted to contig
// hint and only the rest of the block is scanned.
//
// Two deviations keep block hints exact, which find_block_fit's promises rest on:
// - The scan hint is not always the largest run before it (after an allocation clears it, the
//   next smaller run freed or skipped becomes the scan hint). When a run the kernel skipped is
//   longer than the contig hint it computed, the block is scanned again from first_free.
// - When the promoted run ends the block, the kernel loses right_free (zeroed, and nothing
//   past the run to set it again); here it is the promoted run.
void pcpu_chunk_map::block_refresh_hint(int index) {
  pcpu_block_md& block = md_blocks_[static_cast<std::size_t>(index)];
  int promoted_start = -1;  // where the promoted scan hint starts, if there is one
  int start;
  if (block.scan_hint != 0) {
    promoted_start = block.scan_hint_start;
    start = block.scan_hint_start + block.scan_hint;
    block.contig_hint_start = block.scan_hint_start;
    block.contig_hint = block.scan_hint;
    block.scan_hint = 0;
  } else {
    start = block.first_free;
    block.contig_hint = 0;
  }
  block.right_free = (start == PCPU_BITMAP_BLOCK_BITS) ? block.contig_hint : 0;
  block_scan_free_runs(index, start);

  if (promoted_start >= 0 &&
      block_longest_run(index, block.first_free, promoted_start) > block.contig_hint) {
    block.scan_hint = 0;
    block.contig_hint = 0;
    block.right_free = 0;
    block_scan_free_runs(index, block.first_free);
  }
}

// pcpu_next_md_free_region: from *bit_off, the next free region the block hints describe:
// a block's contig hint when it lies inside the block, or a run joined across blocks from one
// block's right_free through fully free blocks into the next one's left_free. Only the hints
// are read, never the bitmap. *bit_off >= map_bits() when there are no more.
void pcpu_chunk_map::next_md_free_region(int* bit_off, int* bits) const {
  int index = *bit_off / PCPU_BITMAP_BLOCK_BITS;
  int block_off = *bit_off % PCPU_BITMAP_BLOCK_BITS;

  *bits = 0;
  for (; index < nr_pages_; ++index) {
    const pcpu_block_md& block = md_blocks_[static_cast<std::size_t>(index)];
    if (*bits != 0) {
      *bits += block.left_free;
      if (block.left_free == PCPU_BITMAP_BLOCK_BITS) continue;
      return;
    }

    // A contig hint touching the block end is the right_free run, joined below instead. One
    // before block_off was returned by the previous call.
    *bits = block.contig_hint;
    if (*bits != 0 && block.contig_hint_start >= block_off &&
        *bits + block.contig_hint_start < PCPU_BITMAP_BLOCK_BITS) {
      *bit_off = index * PCPU_BITMAP_BLOCK_BITS + block.contig_hint_start;
      return;
    }
    block_off = 0;

    *bits = block.right_free;
    *bit_off = (index + 1) * PCPU_BITMAP_BLOCK_BITS - block.right_free;
  }
}

// pcpu_chunk_refresh_hint: rebuilds chunk_md's contig hint from the block hints. After an
// allocation (full_scan false) the chunk scan hint is still the largest run before its end, so
// it is promoted and the walk starts after it; a free may have joined runs anywhere, so it walks
// from first_free.
void pcpu_chunk_map::chunk_refresh_hint(bool full_scan) {
  int bit_off;
  if (!full_scan && chunk_md_.scan_hint != 0) {
    bit_off = chunk_md_.scan_hint_start + chunk_md_.scan_hint;
    chunk_md_.contig_hint_start = chunk_md_.scan_hint_start;
    chunk_md_.contig_hint = chunk_md_.scan_hint;
    chunk_md_.scan_hint = 0;
  } else {
    bit_off = chunk_md_.first_free;
    chunk_md_.contig_hint = 0;
  }

  int bits = 0;
  for (next_md_free_region(&bit_off, &bits); bit_off < map_bits();
       bit_off += bits + 1, next_md_free_region(&bit_off, &bits)) {
    pcpu_block_update(chunk_md_, bit_off, bit_off + bits);
  }
}

// pcpu_block_update_hint_alloc: [bit_off, bit_off + bits) was just allocated. The first and
// last blocks are patched, rescanning one only when the allocation broke its contig hint;
// blocks in between are now full. The chunk hint is rebuilt only when the allocation broke it.
void pcpu_chunk_map::block_update_hint_alloc(int bit_off, int bits) {
  const int s_index = bit_off / PCPU_BITMAP_BLOCK_BITS;
  const int e_index = (bit_off + bits - 1) / PCPU_BITMAP_BLOCK_BITS;
  const int s_off = bit_off % PCPU_BITMAP_BLOCK_BITS;
  const int e_off = (bit_off + bits - 1) % PCPU_BITMAP_BLOCK_BITS + 1;  // exclusive, in e_block
  pcpu_block_md& s_block = md_blocks_[static_cast<std::size_t>(s_index)];
  pcpu_block_md& e_block = md_blocks_[static_cast<std::size_t>(e_index)];
  int nr_empty_pages = 0;  // empty populated pages this allocation uses

  if (is_empty_populated(s_index)) ++nr_empty_pages;
  if (s_off == s_block.first_free) s_block.first_free = block_next_zero_bit(s_index, s_off + bits);
  if (pcpu_region_overlap(s_block.scan_hint_start, s_block.scan_hint_start + s_block.scan_hint,
                          s_off, s_off + bits)) {
    s_block.scan_hint = 0;
  }
  if (pcpu_region_overlap(s_block.contig_hint_start,
                          s_block.contig_hint_start + s_block.contig_hint, s_off, s_off + bits)) {
    // The refresh does not revisit a left run before a promoted scan hint, so cut it here.
    // (The kernel only zeroes it when s_off is 0, leaving it too large when the allocation
    // split a contig hint that began the block.)
    s_block.left_free = std::min(s_block.left_free, s_off);
    block_refresh_hint(s_index);
  } else {
    // The contig hint survives, so only the edge runs can have shrunk.
    s_block.left_free = std::min(s_block.left_free, s_off);
    s_block.right_free =
        s_index == e_index ? std::min(s_block.right_free, PCPU_BITMAP_BLOCK_BITS - e_off) : 0;
  }

  if (s_index != e_index) {
    if (is_empty_populated(e_index)) ++nr_empty_pages;
    // The allocation covers the e_block from its start.
    e_block.first_free = block_next_zero_bit(e_index, e_off);
    if (e_off == PCPU_BITMAP_BLOCK_BITS) {
      pcpu_block_mark_full(e_block);
    } else {
      if (e_off > e_block.scan_hint_start) e_block.scan_hint = 0;
      e_block.left_free = 0;
      if (e_off > e_block.contig_hint_start) {
        block_refresh_hint(e_index);
      } else {
        e_block.right_free = std::min(e_block.right_free, PCPU_BITMAP_BLOCK_BITS - e_off);
      }
    }

    for (int index = s_index + 1; index < e_index; ++index) {
      if (is_empty_populated(index)) ++nr_empty_pages;
      pcpu_block_mark_full(md_blocks_[static_cast<std::size_t>(index)]);
    }
  }
  nr_empty_pop_pages_ -= nr_empty_pages;

  if (pcpu_region_overlap(chunk_md_.scan_hint_start,
                          chunk_md_.scan_hint_start + chunk_md_.scan_hint, bit_off,
                          bit_off + bits)) {
    chunk_md_.scan_hint = 0;
  }
  // An allocation outside the chunk contig hint leaves it correct.
  if (pcpu_region_overlap(chunk_md_.contig_hint_start,
                          chunk_md_.contig_hint_start + chunk_md_.contig_hint, bit_off,
                          bit_off + bits)) {
    chunk_refresh_hint(false);
  }
}

// pcpu_block_update_hint_free: [bit_off, bit_off + bits) was just freed. Finds the whole free
// run it joined (from the contig hints when the freed area abuts them, else by scanning the
// bitmap, never past the first and last block), updates those blocks, and marks the blocks in
// between empty. The chunk hint is rebuilt when a page became free or the free spans blocks;
// otherwise it is patched, possibly leaving it low by up to a page.
void pcpu_chunk_map::block_update_hint_free(int bit_off, int bits) {
  const int s_index = bit_off / PCPU_BITMAP_BLOCK_BITS;
  const int e_index = (bit_off + bits - 1) / PCPU_BITMAP_BLOCK_BITS;
  const int s_off = bit_off % PCPU_BITMAP_BLOCK_BITS;
  const int e_off = (bit_off + bits - 1) % PCPU_BITMAP_BLOCK_BITS + 1;
  pcpu_block_md& s_block = md_blocks_[static_cast<std::size_t>(s_index)];
  pcpu_block_md& e_block = md_blocks_[static_cast<std::size_t>(e_index)];
  int nr_empty_pages = 0;  // populated pages this free empties

  // start is in s_block, end in e_block.
  int start = s_off;
  if (s_off == s_block.contig_hint_start + s_block.contig_hint) {
    start = s_block.contig_hint_start;
  } else {
    int last_busy = block_last_bit(s_index, start);
    start = (last_busy == start) ? 0 : last_busy + 1;
  }
  int end = (e_off == e_block.contig_hint_start) ? e_block.contig_hint_start + e_block.contig_hint
                                                 : block_next_bit(e_index, e_off);

  int s_end = (s_index == e_index) ? end : PCPU_BITMAP_BLOCK_BITS;
  if (start == 0 && s_end == PCPU_BITMAP_BLOCK_BITS && populated_.test(s_index)) ++nr_empty_pages;
  pcpu_block_update(s_block, start, s_end);

  if (s_index != e_index) {
    if (end == PCPU_BITMAP_BLOCK_BITS && populated_.test(e_index)) ++nr_empty_pages;
    pcpu_block_update(e_block, 0, end);
    for (int index = s_index + 1; index < e_index; ++index) {
      if (populated_.test(index)) ++nr_empty_pages;
      pcpu_block_mark_empty(md_blocks_[static_cast<std::size_t>(index)]);
    }
  }
  nr_empty_pop_pages_ += nr_empty_pages;

  if (end - start >= PCPU_BITMAP_BLOCK_BITS || s_index != e_index) {
    chunk_refresh_hint(true);
  } else {
    // As in the kernel, `end` is passed block-relative. In block 0 that is exact; past it the
    // range is empty (end < start) and only first_free can move, so the chunk contig hint may
    // stay below the run just formed until the next refresh.
    pcpu_block_update(chunk_md_, s_index * PCPU_BITMAP_BLOCK_BITS + start, end);
  }
}

}  // namespace lockdep::mm

// pcpu_chunk_map::check_invariants: recomputes what the hints and counters claim from the
// bitmaps alone and reports the first disagreement. O(map_bits); for tests.
#include <algorithm>
#include <string>

#include "pcpu_chunk_map.hpp"

namespace lockdep::mm {

namespace {

// The free runs of a bitmap range, as the hints should describe them.
struct free_run_summary {
  int largest = 0;
  int first_free = 0;  // relative to the range start; the range length when it is full
  int left_free = 0;
  int right_free = 0;
  int free_bits = 0;
};

free_run_summary summarize(const pcpu_bitmap& map, int begin, int end) {
  free_run_summary summary;
  summary.first_free = map.find_next_zero_bit(end, begin) - begin;
  for (int run_start = begin + summary.first_free; run_start < end;) {
    int run_end = map.find_next_bit(end, run_start + 1);
    int length = run_end - run_start;
    summary.largest = std::max(summary.largest, length);
    summary.free_bits += length;
    if (run_start == begin) summary.left_free = length;
    if (run_end == end) summary.right_free = length;
    run_start = map.find_next_zero_bit(end, run_end + 1);
  }
  return summary;
}

bool all_free(const pcpu_bitmap& map, int begin, int end) {
  return map.find_next_bit(end, begin) >= end;
}

std::string mismatch(const std::string& where, const char* field, int claimed, int actual) {
  return where + ": " + field + " is " + std::to_string(claimed) + " but the bitmap says " +
         std::to_string(actual);
}

// A hint region [start, start + length) must lie in [0, nr_bits) and be free.
std::string check_free_region(const std::string& where, const char* name, const pcpu_bitmap& map,
                              int base, int nr_bits, int start, int length) {
  if (length == 0) return "";
  if (length < 0 || start < 0 || start + length > nr_bits) {
    return where + ": " + name + " [" + std::to_string(start) + ", " +
           std::to_string(start + length) + ") lies outside the map";
  }
  if (!all_free(map, base + start, base + start + length)) {
    return where + ": " + name + " [" + std::to_string(start) + ", " +
           std::to_string(start + length) + ") covers allocated bits";
  }
  return "";
}

// first_free may lag behind (be lower than) the real first free bit, but must be free itself.
std::string check_first_free(const std::string& where, const pcpu_bitmap& map, int base,
                             int nr_bits, int claimed, int actual) {
  if (claimed < 0 || claimed > actual) return mismatch(where, "first_free", claimed, actual);
  if (claimed < nr_bits && map.test(base + claimed)) {
    return where + ": first_free " + std::to_string(claimed) + " is an allocated bit";
  }
  return "";
}

}  // namespace

std::string pcpu_chunk_map::check_invariants() const {
  std::string problem = check_counters();
  for (int index = 0; problem.empty() && index < nr_pages_; ++index) problem = check_block(index);
  if (problem.empty()) problem = check_chunk_md();
  if (problem.empty()) problem = check_bound_map();
  return problem;
}

std::string pcpu_chunk_map::check_counters() const {
  free_run_summary chunk = summarize(alloc_map_, 0, map_bits());
  if (free_bytes_ != chunk.free_bits * PCPU_MIN_ALLOC_SIZE) {
    return mismatch("chunk", "free_bytes", free_bytes_, chunk.free_bits * PCPU_MIN_ALLOC_SIZE);
  }
  int populated = 0;
  int empty_populated = 0;
  for (int page = 0; page < nr_pages_; ++page) {
    if (!populated_.test(page)) continue;
    ++populated;
    int base = page * PCPU_BITMAP_BLOCK_BITS;
    if (all_free(alloc_map_, base, base + PCPU_BITMAP_BLOCK_BITS)) ++empty_populated;
  }
  if (nr_populated_ != populated) {
    return mismatch("chunk", "nr_populated", nr_populated_, populated);
  }
  if (nr_empty_pop_pages_ != empty_populated) {
    return mismatch("chunk", "nr_empty_pop_pages", nr_empty_pop_pages_, empty_populated);
  }
  return "";
}

std::string pcpu_chunk_map::check_block(int index) const {
  const pcpu_block_md& block = md_blocks_[static_cast<std::size_t>(index)];
  const std::string where = "block " + std::to_string(index);
  const int base = index * PCPU_BITMAP_BLOCK_BITS;
  const int nr_bits = PCPU_BITMAP_BLOCK_BITS;
  free_run_summary actual = summarize(alloc_map_, base, base + nr_bits);

  if (block.nr_bits != nr_bits) return mismatch(where, "nr_bits", block.nr_bits, nr_bits);
  if (block.contig_hint != actual.largest) {
    return mismatch(where, "contig_hint", block.contig_hint, actual.largest);
  }
  std::string problem = check_free_region(where, "contig hint", alloc_map_, base, nr_bits,
                                          block.contig_hint_start, block.contig_hint);
  if (!problem.empty()) return problem;
  if (block.left_free != actual.left_free) {
    return mismatch(where, "left_free", block.left_free, actual.left_free);
  }
  if (block.right_free != actual.right_free) {
    return mismatch(where, "right_free", block.right_free, actual.right_free);
  }
  problem = check_first_free(where, alloc_map_, base, nr_bits, block.first_free, actual.first_free);
  if (!problem.empty()) return problem;

  if (block.scan_hint == 0) return "";
  problem = check_free_region(where, "scan hint", alloc_map_, base, nr_bits, block.scan_hint_start,
                              block.scan_hint);
  if (!problem.empty()) return problem;
  // A scan hint lies before the contig hint, or equals it in size and lies after it.
  bool before = block.scan_hint_start + block.scan_hint <= block.contig_hint_start &&
                block.scan_hint <= block.contig_hint;
  bool equal_after =
      block.scan_hint == block.contig_hint && block.scan_hint_start > block.contig_hint_start;
  if (!before && !equal_after) {
    return where + ": scan hint " + std::to_string(block.scan_hint) + "@" +
           std::to_string(block.scan_hint_start) + " is neither before contig hint " +
           std::to_string(block.contig_hint) + "@" + std::to_string(block.contig_hint_start) +
           " nor equal to it";
  }
  return "";
}

std::string pcpu_chunk_map::check_chunk_md() const {
  const std::string where = "chunk_md";
  free_run_summary actual = summarize(alloc_map_, 0, map_bits());
  if (chunk_md_.nr_bits != map_bits()) {
    return mismatch(where, "nr_bits", chunk_md_.nr_bits, map_bits());
  }
  // The chunk hint may lag behind frees, never ahead of allocations.
  if (chunk_md_.contig_hint > actual.largest) {
    return mismatch(where, "contig_hint (an overstatement)", chunk_md_.contig_hint, actual.largest);
  }
  std::string problem = check_free_region(where, "contig hint", alloc_map_, 0, map_bits(),
                                          chunk_md_.contig_hint_start, chunk_md_.contig_hint);
  if (problem.empty()) {
    problem = check_free_region(where, "scan hint", alloc_map_, 0, map_bits(),
                                chunk_md_.scan_hint_start, chunk_md_.scan_hint);
  }
  if (problem.empty()) {
    problem =
        check_first_free(where, alloc_map_, 0, map_bits(), chunk_md_.first_free, actual.first_free);
  }
  return problem;
}

// Every allocated run starts and ends on a bound bit. (Boundaries between adjacent allocations
// inside one run cannot be told from the alloc map.)
std::string pcpu_chunk_map::check_bound_map() const {
  for (int run_start = alloc_map_.find_next_bit(map_bits(), 0); run_start < map_bits();) {
    int run_end = alloc_map_.find_next_zero_bit(map_bits(), run_start + 1);
    if (!bound_map_.test(run_start) || !bound_map_.test(run_end)) {
      return "bound_map: allocated run [" + std::to_string(run_start) + ", " +
             std::to_string(run_end) + ") lacks a bound bit at its " +
             (bound_map_.test(run_start) ? "end" : "start");
    }
    run_start = alloc_map_.find_next_bit(map_bits(), run_end + 1);
  }
  return "";
}

}  // namespace lockdep::mm

// Helpers shared by the chunk map tests: sizes in bits, an allocation shortcut, the state
// that must not change on a refused operation, and the granule reference model.
#pragma once

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>
#include "pcpu_chunk_map.hpp"

namespace pcpu_chunk_map_test {

using namespace lockdep::mm;

inline constexpr int bytes_to_bits(int bytes) {
  return (bytes + PCPU_MIN_ALLOC_SIZE - 1) / PCPU_MIN_ALLOC_SIZE;
}

// find_block_fit + alloc_area, as pcpu_alloc drives them: a byte offset or -1.
inline int allocate(pcpu_chunk_map& chunk, int bytes, int align_bytes, bool pop_only = false) {
  int bits = bytes_to_bits(bytes);
  int align_bits = align_bytes / PCPU_MIN_ALLOC_SIZE;
  int start = chunk.find_block_fit(bits, align_bits, pop_only);
  return start < 0 ? -1 : chunk.alloc_area(bits, align_bits, start);
}

// Every hint and counter of a chunk, flattened, to show that a refused free changed nothing.
inline std::vector<int> observable_state(const pcpu_chunk_map& chunk) {
  std::vector<int> state{chunk.free_bytes(), chunk.nr_populated(), chunk.nr_empty_pop_pages()};
  auto add = [&state](const pcpu_block_md& md) {
    state.insert(state.end(),
                 {md.scan_hint, md.scan_hint_start, md.contig_hint, md.contig_hint_start,
                  md.left_free, md.right_free, md.first_free, md.nr_bits});
  };
  add(chunk.chunk_md());
  for (int page = 0; page < chunk.nr_pages(); ++page) add(chunk.block_md(page));
  return state;
}

// The reference: one bool per granule and the live allocations by byte offset.
struct reference_model {
  explicit reference_model(int nr_bits) : used(static_cast<std::size_t>(nr_bits), false) {}

  bool range_free(int bit_off, int bits) const {
    for (int bit = bit_off; bit < bit_off + bits; ++bit) {
      if (used[static_cast<std::size_t>(bit)]) return false;
    }
    return true;
  }
  void mark(int bit_off, int bits, bool value) {
    for (int bit = bit_off; bit < bit_off + bits; ++bit) {
      used[static_cast<std::size_t>(bit)] = value;
    }
  }
  int free_bytes() const {
    int free_bits = 0;
    for (bool bit : used) free_bits += bit ? 0 : 1;
    return free_bits * PCPU_MIN_ALLOC_SIZE;
  }

  std::vector<bool> used;
  std::map<int, int> live;  // byte offset -> bytes
};

// A random alloc/free/(de)populate sequence against the reference model, checking every step.

}  // namespace pcpu_chunk_map_test

// A fixed-size bitmap with the kernel's search primitives (find_next_bit, find_next_zero_bit,
// find_last_bit, bitmap_set, bitmap_clear), as pcpu_chunk_map uses them for alloc_map,
// bound_map and the populated-page map.
//
// Searches follow the kernel's conventions so the chunk code reads like mm/percpu.c: a search
// over [start, size) returns `size` when it finds nothing. Searches walk 64-bit words, so they
// cost O(bits searched / 64). Not thread-safe. Copyable and movable.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <vector>

namespace lockdep::mm {

class pcpu_bitmap {
 public:
  explicit pcpu_bitmap(int nr_bits)
      : nr_bits_(nr_bits), words_(static_cast<std::size_t>((nr_bits + 63) / 64), 0) {}

  int nr_bits() const { return nr_bits_; }

  bool test(int bit) const {
    assert(bit >= 0 && bit < nr_bits_);
    return (words_[word(bit)] & mask(bit)) != 0;
  }
  void set(int bit) {
    assert(bit >= 0 && bit < nr_bits_);
    words_[word(bit)] |= mask(bit);
  }
  void clear(int bit) {
    assert(bit >= 0 && bit < nr_bits_);
    words_[word(bit)] &= ~mask(bit);
  }

  // bitmap_set / bitmap_clear: bits [start, start + nr).
  void set_range(int start, int nr) { assign_range(start, nr, true); }
  void clear_range(int start, int nr) { assign_range(start, nr, false); }

  // The first set bit in [start, size), or `size`.
  int find_next_bit(int size, int start) const { return find_next(size, start, 0); }
  // The first clear bit in [start, size), or `size`.
  int find_next_zero_bit(int size, int start) const { return find_next(size, start, ~0ULL); }

  // The last set bit in [begin, end), or `end` when there is none. With begin == 0 this is the
  // kernel's find_last_bit(map, end); a nonzero begin searches one block of a larger map.
  int find_last_bit(int begin, int end) const {
    assert(begin >= 0 && end <= nr_bits_);
    int bit = end - 1;
    while (bit >= begin) {
      std::uint64_t bits = words_[word(bit)] & low_mask_through(bit);
      if (bits != 0) {
        int found = word(bit) * 64 + 63 - std::countl_zero(bits);
        return found >= begin ? found : end;
      }
      bit = word(bit) * 64 - 1;
    }
    return end;
  }

 private:
  static int word(int bit) { return bit / 64; }
  static std::uint64_t mask(int bit) { return 1ULL << (bit % 64); }
  // Bits 0..bit (inclusive) of bit's word.
  static std::uint64_t low_mask_through(int bit) { return ~0ULL >> (63 - bit % 64); }

  void assign_range(int start, int nr, bool value) {
    assert(start >= 0 && nr >= 0 && start + nr <= nr_bits_);
    for (int end = start + nr; start < end;) {
      int in_word = std::min(64 - start % 64, end - start);
      std::uint64_t bits = (in_word == 64 ? ~0ULL : (1ULL << in_word) - 1) << (start % 64);
      if (value) {
        words_[word(start)] |= bits;
      } else {
        words_[word(start)] &= ~bits;
      }
      start += in_word;
    }
  }

  // Scans words XORed with `invert`, so one loop serves both set- and clear-bit searches.
  int find_next(int size, int start, std::uint64_t invert) const {
    assert(size <= nr_bits_);
    if (start >= size) return size;
    int index = word(start);
    std::uint64_t bits = (words_[index] ^ invert) & (~0ULL << (start % 64));
    while (bits == 0) {
      if (++index * 64 >= size) return size;
      bits = words_[index] ^ invert;
    }
    int found = index * 64 + std::countr_zero(bits);
    return found < size ? found : size;
  }

  int nr_bits_;
  std::vector<std::uint64_t> words_;
};

}  // namespace lockdep::mm

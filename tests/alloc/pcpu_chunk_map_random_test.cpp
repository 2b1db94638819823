// The chunk map against a granule reference model over long random sequences of allocs,
// frees (valid and invalid) and population changes, with invariants checked at every step.

#include <algorithm>
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "pcpu_chunk_map.hpp"
#include "pcpu_chunk_map_helpers.hpp"

using namespace lockdep::mm;
using namespace pcpu_chunk_map_test;

namespace {

class random_sequence {
 public:
  random_sequence(int nr_pages, unsigned seed, int start_offset, int end_offset)
      : chunk_(start_offset == 0 && end_offset == 0
                   ? pcpu_chunk_map(nr_pages)
                   : pcpu_chunk_map(nr_pages, start_offset, end_offset)),
        model_(nr_pages * PCPU_BITMAP_BLOCK_BITS),
        rng_(seed),
        seed_(seed) {
    // The first chunk's hidden head and tail are allocated but belong to no one.
    model_.mark(0, start_offset / PCPU_MIN_ALLOC_SIZE, true);
    int tail_bits = end_offset / PCPU_MIN_ALLOC_SIZE;
    model_.mark(nr_pages * PCPU_BITMAP_BLOCK_BITS - tail_bits, tail_bits, true);
    if (!chunk_.immutable()) chunk_.mark_populated(0, nr_pages);
  }

  void run(int steps) {
    for (step_ = 0; step_ < steps; ++step_) {
      int choice = pick(0, 99);
      if (choice < 55) {
        try_alloc();
      } else if (choice < 88) {
        free_random_live();
      } else if (choice < 95) {
        try_invalid_free();
      } else if (!chunk_.immutable()) {
        change_population();
      }
      check_consistent();
    }
    free_everything();
  }

  int successes() const { return successes_; }
  int failures() const { return failures_; }

 private:
  int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }

  std::string where() const {
    return "seed " + std::to_string(seed_) + ", " + std::to_string(chunk_.nr_pages()) +
           " pages, step " + std::to_string(step_) + " (" + last_op_ + ")";
  }

  void check_consistent() {
    std::string problem = chunk_.check_invariants();
    if (!problem.empty()) FAIL(where() << ": " << problem);
    if (chunk_.free_bytes() != model_.free_bytes()) {
      FAIL(where() << ": free_bytes " << chunk_.free_bytes() << ", model " << model_.free_bytes());
    }
  }

  void try_alloc() {
    // Sizes spread over 4..8192 bytes on a log scale, alignments mostly small.
    int bytes = pick(1, 1 << pick(2, 13));
    int align = PCPU_MIN_ALLOC_SIZE << (pick(0, 3) == 0 ? pick(0, 10) : pick(0, 2));
    bool pop_only = !chunk_.immutable() && pick(0, 3) == 0;
    int bits = bytes_to_bits(bytes);
    int align_bits = align / PCPU_MIN_ALLOC_SIZE;

    int start = chunk_.find_block_fit(bits, align_bits, pop_only);
    last_op_ = "alloc " + std::to_string(bits) + " bits aligned " + std::to_string(align_bits) +
               (pop_only ? " pop_only" : "") + " from fit " + std::to_string(start);
    if (start < 0) {
      ++failures_;
      // The hints may refuse fits that exist, as the kernel's do, but never on an empty,
      // fully populated dynamic chunk that has the room.
      bool empty =
          model_.live.empty() && !chunk_.immutable() && chunk_.nr_populated() == chunk_.nr_pages();
      if (empty && bits <= chunk_.nr_pages() * PCPU_BITMAP_BLOCK_BITS) {
        FAIL(where() << ": empty chunk refused " << bytes << " bytes aligned " << align);
      }
      return;
    }
    int offset = chunk_.alloc_area(bits, align_bits, start);
    // Block hints are exact, so a fit that find_block_fit promised is always there.
    if (offset < 0) FAIL(where() << ": alloc_area failed from fit " << start);
    ++successes_;

    int bit_off = offset / PCPU_MIN_ALLOC_SIZE;
    REQUIRE(offset % align == 0);
    // alloc_area scans forward from the fit, at most a block past the request.
    REQUIRE(bit_off >= start);
    REQUIRE(bit_off + bits <= start + bits + PCPU_BITMAP_BLOCK_BITS);
    REQUIRE(bit_off + bits <= static_cast<int>(model_.used.size()));
    if (!model_.range_free(bit_off, bits)) FAIL(where() << ": overlapping area at " << offset);
    if (pop_only) {
      int end = offset + bits * PCPU_MIN_ALLOC_SIZE;
      for (int page = offset / PAGE_SIZE; page * PAGE_SIZE < end; ++page) {
        if (!chunk_.is_populated(page)) FAIL(where() << ": pop_only fit on page " << page);
      }
    }
    last_op_ += " at bit " + std::to_string(bit_off);
    model_.mark(bit_off, bits, true);
    model_.live[offset] = bits * PCPU_MIN_ALLOC_SIZE;
  }

  void free_random_live() {
    if (model_.live.empty()) return;
    auto it = model_.live.begin();
    std::advance(it, pick(0, static_cast<int>(model_.live.size()) - 1));
    last_op_ = "free " + std::to_string(it->first / PCPU_MIN_ALLOC_SIZE) + " + " +
               std::to_string(it->second / PCPU_MIN_ALLOC_SIZE) + " bits";
    int freed = chunk_.free_area(it->first);
    if (freed != it->second) {
      FAIL(where() << ": freeing " << it->first << " returned " << freed << ", not " << it->second);
    }
    model_.mark(it->first / PCPU_MIN_ALLOC_SIZE, it->second / PCPU_MIN_ALLOC_SIZE, false);
    recently_freed_.push_back(it->first);
    model_.live.erase(it);
  }

  // A free that names no live allocation's start must be refused and change nothing.
  void try_invalid_free() {
    int map_bytes = chunk_.nr_pages() * PAGE_SIZE;
    int offset = 0;
    switch (pick(0, 4)) {
      case 0:  // double free (unless the offset has since been handed out again)
        if (recently_freed_.empty()) return;
        offset = recently_freed_[static_cast<std::size_t>(
            pick(0, static_cast<int>(recently_freed_.size()) - 1))];
        break;
      case 1: {  // inside a live allocation
        if (model_.live.empty()) return;
        auto it = model_.live.begin();
        std::advance(it, pick(0, static_cast<int>(model_.live.size()) - 1));
        if (it->second == PCPU_MIN_ALLOC_SIZE) return;
        offset = it->first + PCPU_MIN_ALLOC_SIZE * pick(1, it->second / PCPU_MIN_ALLOC_SIZE - 1);
        break;
      }
      case 2:  // unaligned
        offset = pick(0, map_bytes / PCPU_MIN_ALLOC_SIZE - 1) * PCPU_MIN_ALLOC_SIZE + pick(1, 3);
        break;
      case 3:  // out of range
        offset = pick(0, 1) == 0 ? -PCPU_MIN_ALLOC_SIZE * pick(1, 100)
                                 : map_bytes + PCPU_MIN_ALLOC_SIZE * pick(0, 100);
        break;
      default:  // any granule: refused unless a live allocation starts there
        offset = pick(0, map_bytes / PCPU_MIN_ALLOC_SIZE - 1) * PCPU_MIN_ALLOC_SIZE;
        break;
    }
    if (model_.live.contains(offset)) return;
    last_op_ = "invalid free of byte " + std::to_string(offset);
    std::vector<int> before = observable_state(chunk_);
    int result = chunk_.free_area(offset);
    if (result != -1) FAIL(where() << ": invalid free of " << offset << " returned " << result);
    if (observable_state(chunk_) != before) FAIL(where() << ": refused free changed the chunk");
  }

  void change_population() {
    int first = pick(0, chunk_.nr_pages() - 1);
    int last = pick(first + 1, chunk_.nr_pages());
    int populated_before = 0;
    for (int page = first; page < last; ++page) {
      populated_before += chunk_.is_populated(page) ? 1 : 0;
    }
    int total_before = chunk_.nr_populated();
    bool populate = pick(0, 1) == 0;
    last_op_ = std::string(populate ? "populate" : "depopulate") + " pages " +
               std::to_string(first) + ".." + std::to_string(last);
    if (populate) {
      chunk_.mark_populated(first, last);
      REQUIRE(chunk_.nr_populated() == total_before + (last - first) - populated_before);
    } else {
      chunk_.mark_depopulated(first, last);
      REQUIRE(chunk_.nr_populated() == total_before - populated_before);
    }
  }

  void free_everything() {
    while (!model_.live.empty()) free_random_live();
    if (!chunk_.immutable()) chunk_.mark_populated(0, chunk_.nr_pages());
    check_consistent();
    int map_bytes = chunk_.nr_pages() * PAGE_SIZE;
    REQUIRE(chunk_.free_bytes() == model_.free_bytes());
    if (chunk_.immutable()) {
      REQUIRE(chunk_.contig_hint_bytes() <= chunk_.free_bytes());
      return;
    }
    REQUIRE(chunk_.free_bytes() == map_bytes);
    REQUIRE(chunk_.contig_hint_bytes() == map_bytes);
    REQUIRE(chunk_.chunk_md().contig_hint == chunk_.nr_pages() * PCPU_BITMAP_BLOCK_BITS);
    REQUIRE(chunk_.nr_empty_pop_pages() == chunk_.nr_pages());
  }

  pcpu_chunk_map chunk_;
  reference_model model_;
  std::mt19937 rng_;
  unsigned seed_;
  int step_ = 0;
  int successes_ = 0;
  int failures_ = 0;
  std::vector<int> recently_freed_;
  std::string last_op_;
};

}  // namespace

TEST_CASE("random allocs and frees agree with a granule model", "[pcpu_chunk_map]") {
  for (int nr_pages : {1, 2, 4, 16}) {
    for (unsigned seed : {1u, 2u, 3u}) {
      random_sequence sequence(nr_pages, seed * 7919u + static_cast<unsigned>(nr_pages), 0, 0);
      sequence.run(nr_pages == 16 ? 1500 : 1000);
      // The sequence must exercise both outcomes to mean anything.
      CHECK(sequence.successes() > 100);
      CHECK(sequence.failures() > 0);
    }
  }
}

TEST_CASE("random allocs and frees in a first chunk", "[pcpu_chunk_map]") {
  for (unsigned seed : {11u, 12u}) {
    random_sequence sequence(4, seed, 1000, 2052);
    sequence.run(1000);
    CHECK(sequence.successes() > 100);
  }
}

// Tests for pcpu_chunk_map, the per-CPU chunk area map: a randomized comparison with a plain
// granule-vector model, plus directed tests of the hints, population and the first chunk.

#include "pcpu_chunk_map.hpp"
#include <algorithm>
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>
#include "pcpu_chunk_map_helpers.hpp"

using namespace lockdep::mm;
using namespace pcpu_chunk_map_test;

TEST_CASE("pcpu_bitmap searches agree with a vector of bools", "[pcpu_chunk_map]") {
  std::mt19937 rng(5);
  auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng); };
  for (int nr_bits : {1, 63, 64, 65, 200, 1025}) {
    pcpu_bitmap map(nr_bits);
    std::vector<bool> model(static_cast<std::size_t>(nr_bits), false);
    for (int round = 0; round < 300; ++round) {
      int start = pick(0, nr_bits - 1);
      int nr = pick(0, nr_bits - start);
      bool value = pick(0, 1) == 0;
      if (value) {
        map.set_range(start, nr);
      } else {
        map.clear_range(start, nr);
      }
      for (int bit = start; bit < start + nr; ++bit) model[static_cast<std::size_t>(bit)] = value;

      int size = pick(0, nr_bits);
      int from = pick(0, nr_bits);
      int next_set = from;
      while (next_set < size && !model[static_cast<std::size_t>(next_set)]) ++next_set;
      int next_clear = from;
      while (next_clear < size && model[static_cast<std::size_t>(next_clear)]) ++next_clear;
      // Both searches return `size` when they find nothing, even from past it.
      CHECK(map.find_next_bit(size, from) == std::min(next_set, size));
      CHECK(map.find_next_zero_bit(size, from) == std::min(next_clear, size));

      int begin = pick(0, size);
      int last = size - 1;
      while (last >= begin && !model[static_cast<std::size_t>(last)]) --last;
      CHECK(map.find_last_bit(begin, size) == (last >= begin ? last : size));
      CHECK(map.test(start) == model[static_cast<std::size_t>(start)]);
    }
  }
}

TEST_CASE("pop_only fits stay on populated pages", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(8);
  chunk.mark_populated(2, 4);
  chunk.mark_populated(6, 7);

  // First fit skips the unpopulated pages 0 and 1.
  int small = allocate(chunk, 64, 4, true);
  CHECK(small == 2 * PAGE_SIZE);
  // Two pages' worth fits only in pages 2-3, after `small`.
  CHECK(allocate(chunk, 6000, 4, true) == 2 * PAGE_SIZE + 64);
  // A whole aligned page: page 6 is the only populated one left.
  CHECK(allocate(chunk, PAGE_SIZE, PAGE_SIZE, true) == 6 * PAGE_SIZE);
  CHECK(allocate(chunk, PAGE_SIZE, PAGE_SIZE, true) == -1);
  // Without pop_only the unpopulated first page serves.
  CHECK(allocate(chunk, PAGE_SIZE, PAGE_SIZE, false) == 0);
  CHECK(chunk.check_invariants() == "");
}

TEST_CASE("random pop_only fits never touch an unpopulated page", "[pcpu_chunk_map]") {
  std::mt19937 rng(99);
  pcpu_chunk_map chunk(16);
  for (int page = 0; page < 16; page += 3) chunk.mark_populated(page, page + 1);
  chunk.mark_populated(8, 10);
  int pop_only_successes = 0;
  int unpopulated_uses = 0;
  for (int i = 0; i < 400; ++i) {
    int bytes = std::uniform_int_distribution<int>(1, 3000)(rng);
    int align = PCPU_MIN_ALLOC_SIZE << std::uniform_int_distribution<int>(0, 6)(rng);
    bool pop_only = i % 2 == 0;
    int offset = allocate(chunk, bytes, align, pop_only);
    if (offset < 0) continue;
    bool all_populated = true;
    for (int page = offset / PAGE_SIZE; page * PAGE_SIZE < offset + bytes; ++page) {
      all_populated = all_populated && chunk.is_populated(page);
    }
    if (pop_only) {
      ++pop_only_successes;
      CHECK(all_populated);
    } else if (!all_populated) {
      ++unpopulated_uses;
    }
  }
  CHECK(chunk.check_invariants() == "");
  CHECK(pop_only_successes > 10);
  CHECK(unpopulated_uses > 10);
}

TEST_CASE("a fit may join one block's right_free to the next block's left_free",
          "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(2);
  chunk.mark_populated(0, 1);
  REQUIRE(allocate(chunk, PAGE_SIZE - 8, 4) == 0);  // leaves 2 granules at the end of page 0
  CHECK(chunk.block_md(0).right_free == 2);

  // The only fit for 4 granules spans into unpopulated page 1.
  CHECK(allocate(chunk, 16, 4, true) == -1);
  CHECK(allocate(chunk, 16, 4, false) == PAGE_SIZE - 8);
  CHECK(chunk.block_md(0).right_free == 0);
  CHECK(chunk.block_md(1).left_free == 0);
  CHECK(chunk.block_md(1).first_free == 2);
  CHECK(chunk.block_md(1).right_free == PCPU_BITMAP_BLOCK_BITS - 2);
  CHECK(chunk.check_invariants() == "");
}

TEST_CASE("a request larger than the scan hint starts past it", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(1);
  REQUIRE(allocate(chunk, 4, 4) == 0);
  // Aligned to 64 bytes (16 granules), leaving the hole [1, 16).
  REQUIRE(allocate(chunk, 16, 64) == 64);
  const pcpu_block_md& block = chunk.block_md(0);
  CHECK(block.scan_hint == 15);
  CHECK(block.scan_hint_start == 1);
  CHECK(block.contig_hint == PCPU_BITMAP_BLOCK_BITS - 20);
  CHECK(block.contig_hint_start == 20);

  CHECK(chunk.find_block_fit(2, 1, false) == 1);    // may fit in the hole: first fit
  CHECK(chunk.find_block_fit(15, 1, false) == 1);   // exactly the hole
  CHECK(chunk.find_block_fit(16, 1, false) == 16);  // cannot: start past the hole
  CHECK(chunk.check_invariants() == "");
}

TEST_CASE("an alignment-skipped hole becomes the scan hint, as in the kernel", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(1);
  // Granules: a [0,1) b [1,11) c [11,12) d [12,20) e [20,21), the rest free.
  int a = allocate(chunk, 4, 4);
  int b = allocate(chunk, 40, 4);
  int c = allocate(chunk, 4, 4);
  int d = allocate(chunk, 32, 4);
  int e = allocate(chunk, 4, 4);
  REQUIRE((a == 0 && b == 4 && c == 44 && d == 48 && e == 80));
  REQUIRE(chunk.free_area(b) == 40);
  REQUIRE(chunk.free_area(d) == 32);
  CHECK(chunk.block_md(0).scan_hint == 10);  // [1, 11)
  // Taking the hole's first granule clears the scan hint: free runs [2,11) and [12,20) remain.
  REQUIRE(allocate(chunk, 4, 4) == 4);
  CHECK(chunk.block_md(0).scan_hint == 0);

  // 8 granules aligned to 8 skip [8,11) and [16,20), land at 24, and record the larger skipped
  // run, [12,20), as the scan hint, though [2,11) before it is longer.
  REQUIRE(allocate(chunk, 32, 32) == 24 * PCPU_MIN_ALLOC_SIZE);
  CHECK(chunk.block_md(0).scan_hint == 8);
  CHECK(chunk.block_md(0).scan_hint_start == 12);
  CHECK(chunk.block_md(0).contig_hint_start == 32);

  // So a 9-granule request starts past [12,20) and misses the 9-granule hole at [2,11):
  // not first fit, but what the kernel does.
  CHECK(allocate(chunk, 36, 4) == 32 * PCPU_MIN_ALLOC_SIZE);
  CHECK(chunk.check_invariants() == "");
}

TEST_CASE("splitting a contig hint that begins the block cuts left_free", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(1);
  // Granules: a [0,100) b [100,110) c [110,210) d [210,1024).
  int a = allocate(chunk, 400, 4);
  REQUIRE(allocate(chunk, 40, 4) == 400);
  int c = allocate(chunk, 400, 4);
  REQUIRE(allocate(chunk, (PCPU_BITMAP_BLOCK_BITS - 210) * 4, 4) == 840);
  REQUIRE(chunk.free_area(a) == 400);
  REQUIRE(chunk.free_area(c) == 400);
  // Two equal runs: the contig hint at 0 and the scan hint after it.
  CHECK(chunk.block_md(0).contig_hint_start == 0);
  CHECK(chunk.block_md(0).scan_hint_start == 110);

  // alloc_area from inside the first run (a start find_block_fit does not give here, but may
  // when the chunk's hints lag) splits it at 5; the kernel would leave left_free at 100.
  REQUIRE(chunk.alloc_area(4, 1, 5) == 20);
  CHECK(chunk.block_md(0).left_free == 5);
  CHECK(chunk.block_md(0).contig_hint == 100);
  CHECK(chunk.block_md(0).contig_hint_start == 110);
  CHECK(chunk.check_invariants() == "");
}

TEST_CASE("the chunk prefilter refuses what the chunk contig hint cannot hold",
          "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(1);
  REQUIRE(allocate(chunk, PAGE_SIZE - 4, 4) == 0);
  CHECK(chunk.contig_hint_bytes() == 4);
  CHECK(chunk.find_block_fit(2, 1, false) == -1);
  CHECK(chunk.find_block_fit(1, 1, false) == PCPU_BITMAP_BLOCK_BITS - 1);
  // Aligned to 8 bytes, the last granule does not qualify.
  CHECK(chunk.find_block_fit(1, 2, false) == -1);
}

TEST_CASE("nr_empty_pop_pages counts empty populated pages", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(4);
  auto check = [&](int populated, int empty) {
    CHECK(chunk.nr_populated() == populated);
    CHECK(chunk.nr_empty_pop_pages() == empty);
    CHECK(chunk.check_invariants() == "");
  };
  check(0, 0);
  chunk.mark_populated(0, 4);
  check(4, 4);
  int small = allocate(chunk, 100, 4);
  REQUIRE(small == 0);
  check(4, 3);
  int big = allocate(chunk, 2 * PAGE_SIZE, PAGE_SIZE);  // pages 1 and 2
  REQUIRE(big == PAGE_SIZE);
  check(4, 1);
  REQUIRE(chunk.free_area(small) == 100);
  check(4, 2);
  chunk.mark_depopulated(0, 1);  // empty: no longer counted
  check(3, 1);
  chunk.mark_depopulated(1, 2);  // in use: was not counted
  check(2, 1);
  REQUIRE(chunk.free_area(big) == 2 * PAGE_SIZE);  // page 1 empty but unpopulated
  check(2, 2);
  // pcpu_alloc's order: allocate in an unpopulated page, then populate it.
  int page0 = allocate(chunk, PAGE_SIZE, PAGE_SIZE);
  REQUIRE(page0 == 0);
  check(2, 2);
  chunk.mark_populated(0, 1);
  check(3, 2);
  REQUIRE(chunk.free_area(page0) == PAGE_SIZE);
  check(3, 3);
  chunk.mark_populated(0, 4);
  check(4, 4);
  chunk.mark_populated(0, 4);  // already populated: no change
  check(4, 4);
}

TEST_CASE("next_unpopulated and next_populated find runs", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(10);
  chunk.mark_populated(1, 3);
  chunk.mark_populated(5, 6);
  chunk.mark_populated(8, 10);
  int start = -1;
  int end = -1;

  REQUIRE(chunk.next_unpopulated(0, 10, &start, &end));
  CHECK((start == 0 && end == 1));
  REQUIRE(chunk.next_unpopulated(1, 10, &start, &end));
  CHECK((start == 3 && end == 5));
  REQUIRE(chunk.next_unpopulated(5, 10, &start, &end));
  CHECK((start == 6 && end == 8));
  CHECK_FALSE(chunk.next_unpopulated(8, 10, &start, &end));
  REQUIRE(chunk.next_unpopulated(4, 5, &start, &end));
  CHECK((start == 4 && end == 5));

  REQUIRE(chunk.next_populated(0, 10, &start, &end));
  CHECK((start == 1 && end == 3));
  REQUIRE(chunk.next_populated(3, 10, &start, &end));
  CHECK((start == 5 && end == 6));
  REQUIRE(chunk.next_populated(6, 10, &start, &end));
  CHECK((start == 8 && end == 10));
  REQUIRE(chunk.next_populated(0, 2, &start, &end));  // clipped to the range
  CHECK((start == 1 && end == 2));
  CHECK_FALSE(chunk.next_populated(3, 5, &start, &end));
  CHECK_FALSE(chunk.next_populated(4, 4, &start, &end));
}

TEST_CASE("the first chunk hides its head and tail", "[pcpu_chunk_map]") {
  const int nr_pages = 3;
  const int head = 1000;
  const int tail = 2000;
  const int end = nr_pages * PAGE_SIZE - tail;
  pcpu_chunk_map chunk(nr_pages, head, tail);
  CHECK(chunk.immutable());
  CHECK(chunk.nr_populated() == nr_pages);
  for (int page = 0; page < nr_pages; ++page) CHECK(chunk.is_populated(page));
  CHECK(chunk.nr_empty_pop_pages() == 1);  // the head and tail touch pages 0 and 2
  CHECK(chunk.free_bytes() == end - head);
  CHECK(chunk.contig_hint_bytes() == end - head);
  CHECK(chunk.check_invariants() == "");

  std::vector<int> before = observable_state(chunk);
  for (int offset : {0, 4, head - 4, end, end + 4, nr_pages * PAGE_SIZE - 4}) {
    CHECK(chunk.free_area(offset) == -1);
  }
  CHECK(observable_state(chunk) == before);

  // Every granule between head and tail can be handed out, and nothing else.
  std::vector<int> offsets;
  for (int offset; (offset = allocate(chunk, 4, 4)) >= 0;) offsets.push_back(offset);
  REQUIRE(static_cast<int>(offsets.size()) == (end - head) / PCPU_MIN_ALLOC_SIZE);
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    CHECK(offsets[i] == head + static_cast<int>(i) * PCPU_MIN_ALLOC_SIZE);
  }
  CHECK(chunk.free_bytes() == 0);
  CHECK(chunk.nr_empty_pop_pages() == 0);
  CHECK(chunk.check_invariants() == "");

  for (int offset : offsets) REQUIRE(chunk.free_area(offset) == PCPU_MIN_ALLOC_SIZE);
  CHECK(chunk.free_area(0) == -1);
  CHECK(chunk.free_area(end) == -1);
  CHECK(chunk.free_bytes() == end - head);
  CHECK(chunk.nr_empty_pop_pages() == 1);
  CHECK(chunk.check_invariants() == "");
}

TEST_CASE("a first chunk head may cover whole pages", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(4, 5000, 0);
  CHECK(chunk.block_md(0).contig_hint == 0);
  CHECK(chunk.block_md(1).left_free == 0);
  CHECK(chunk.block_md(1).first_free == 5000 / 4 - PCPU_BITMAP_BLOCK_BITS);
  CHECK(chunk.nr_empty_pop_pages() == 2);
  CHECK(chunk.check_invariants() == "");
  CHECK(allocate(chunk, 8, 8) == 5000);
  CHECK(chunk.free_area(5000) == 8);
  CHECK(chunk.free_area(4096) == -1);
}

TEST_CASE("refused frees", "[pcpu_chunk_map]") {
  pcpu_chunk_map chunk(2);
  CHECK(chunk.free_area(0) == -1);  // never allocated
  int a = allocate(chunk, 64, 4);
  int b = allocate(chunk, 64, 4);
  REQUIRE((a == 0 && b == 64));
  std::vector<int> before = observable_state(chunk);
  CHECK(chunk.free_area(a + 4) == -1);  // inside an allocation
  CHECK(chunk.free_area(a + 2) == -1);  // not a granule
  CHECK(chunk.free_area(-4) == -1);     // out of range
  CHECK(chunk.free_area(2 * PAGE_SIZE) == -1);
  CHECK(chunk.free_area(128) == -1);  // free space
  CHECK(observable_state(chunk) == before);
  CHECK(chunk.free_area(a) == 64);
  CHECK(chunk.free_area(a) == -1);  // double free
  CHECK(chunk.free_area(b) == 64);
  CHECK(chunk.free_bytes() == 2 * PAGE_SIZE);
  CHECK(chunk.check_invariants() == "");
}

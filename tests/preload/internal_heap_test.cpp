// The preloaded validator's own heap (lockdep/preload/internal_heap.hpp), called directly.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "internal_heap.hpp"

using lockdep::preload::heap_allocate;
using lockdep::preload::heap_deallocate;

namespace {

bool aligned_to(const void* pointer, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

struct filled_block {
  unsigned char* bytes;
  std::size_t size;
  unsigned char pattern;
};

// Fills each block with its own byte, then checks that no block overwrote another.
bool blocks_intact(const std::vector<filled_block>& blocks) {
  for (const filled_block& block : blocks) {
    for (std::size_t i = 0; i < block.size; ++i) {
      if (block.bytes[i] != block.pattern) return false;
    }
  }
  return true;
}

filled_block allocate_filled(std::size_t size, std::size_t alignment, unsigned char pattern) {
  auto* bytes = static_cast<unsigned char*>(heap_allocate(size, alignment));
  if (bytes != nullptr) std::memset(bytes, pattern, size);
  return {bytes, size, pattern};
}

}  // namespace

TEST_CASE("internal heap: blocks of every size class and beyond are aligned and disjoint",
          "[internal_heap]") {
  std::vector<filled_block> blocks;
  unsigned char pattern = 1;
  for (std::size_t size : {1, 15, 16, 17, 100, 1000, 4096, 30000, 65520, 65536, 200000, 3 << 20}) {
    for (int copy = 0; copy < 3; ++copy) {
      blocks.push_back(allocate_filled(size, 16, pattern++));
      REQUIRE(blocks.back().bytes != nullptr);
      CHECK(aligned_to(blocks.back().bytes, 16));
    }
  }
  CHECK(blocks_intact(blocks));
  for (const filled_block& block : blocks) heap_deallocate(block.bytes);
}

TEST_CASE("internal heap: larger alignments are honoured", "[internal_heap]") {
  std::vector<filled_block> blocks;
  unsigned char pattern = 1;
  for (std::size_t alignment : {32, 64, 256, 4096}) {
    for (std::size_t size : {1, 64, 5000, 100000}) {
      blocks.push_back(allocate_filled(size, alignment, pattern++));
      REQUIRE(blocks.back().bytes != nullptr);
      CHECK(aligned_to(blocks.back().bytes, alignment));
    }
  }
  CHECK(blocks_intact(blocks));
  for (const filled_block& block : blocks) heap_deallocate(block.bytes);
}

TEST_CASE("internal heap: a freed block is reused for its size class", "[internal_heap]") {
  void* first = heap_allocate(40, 16);
  heap_deallocate(first);
  void* second = heap_allocate(48, 16);  // the same 64-byte class
  CHECK(second == first);
  heap_deallocate(second);
  heap_deallocate(nullptr);  // ignored
}

TEST_CASE("internal heap: an impossible size gives null", "[internal_heap]") {
  CHECK(heap_allocate(SIZE_MAX - 8, 16) == nullptr);
  CHECK(heap_allocate(SIZE_MAX / 2, 4096) == nullptr);
}

TEST_CASE("internal heap: threads allocating and freeing at once keep their blocks",
          "[internal_heap]") {
  constexpr int thread_count = 4;
  std::vector<int> corrupted(thread_count, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([t, &corrupted] {
      std::vector<filled_block> live;
      for (int round = 0; round < 20000; ++round) {
        auto pattern = static_cast<unsigned char>(t * 50 + round % 50 + 1);
        live.push_back(
            allocate_filled(static_cast<std::size_t>(8 + (round * 37) % 3000), 16, pattern));
        if (live.back().bytes == nullptr) ++corrupted[t];
        if (live.size() > 64) {
          if (!blocks_intact(live)) ++corrupted[t];
          for (const filled_block& block : live) heap_deallocate(block.bytes);
          live.clear();
        }
      }
      if (!blocks_intact(live)) ++corrupted[t];
      for (const filled_block& block : live) heap_deallocate(block.bytes);
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(corrupted == std::vector<int>(thread_count, 0));
}

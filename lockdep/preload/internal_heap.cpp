#include "internal_heap.hpp"

#include <sys/mman.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "spin_lock.hpp"

namespace lockdep::preload {
namespace {

// Sits just before every block handed out: what delete needs to give it back.
struct block_header {
  std::uint64_t size_or_class;  // a size class, or the byte size of a block mapped on its own
  std::uint32_t offset;         // from the block's start to the pointer handed out
  std::uint32_t magic;
};
static_assert(sizeof(block_header) == 16);  // keeps pointers 16-byte aligned, as new must

constexpr std::uint32_t heap_magic = 0x6c6b6470;  // "lkdp"
constexpr std::size_t smallest_block_shift = 5;   // class 0: 32-byte blocks, header included
constexpr std::size_t class_count = 12;
constexpr std::size_t largest_class_shift = smallest_block_shift + class_count - 1;  // 64 KiB
constexpr std::size_t largest_class_block = std::size_t{1} << largest_class_shift;
constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
constexpr std::size_t page_bytes = 4096;

struct free_block {
  free_block* next;
};

// Zero-initialized: usable before any constructor runs, as the first allocation may come from
// one.
constinit spin_lock heap_lock;
constinit free_block* free_lists[class_count] = {};
constinit char* chunk_next = nullptr;
constinit char* chunk_end = nullptr;

std::size_t block_bytes(std::size_t size_class) {
  return std::size_t{1} << (smallest_block_shift + size_class);
}

std::size_t class_of(std::size_t bytes) {
  std::size_t shift = std::bit_width(bytes - 1);  // the smallest power of two >= bytes
  return shift <= smallest_block_shift ? 0 : shift - smallest_block_shift;
}

void* map_bytes(std::size_t bytes) {
  void* mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return mapped == MAP_FAILED ? nullptr : mapped;
}

// A block of `size_class` from its free list or the current chunk; null if memory is out.
char* take_block(std::size_t size_class) {
  spin_guard guard(heap_lock);
  if (free_block* reused = free_lists[size_class]) {
    free_lists[size_class] = reused->next;
    return reinterpret_cast<char*>(reused);
  }
  std::size_t bytes = block_bytes(size_class);
  if (chunk_end - chunk_next < static_cast<std::ptrdiff_t>(bytes)) {
    // The rest of the old chunk is left unused: at most one largest block per megabyte.
    auto* chunk = static_cast<char*>(map_bytes(chunk_bytes));
    if (chunk == nullptr) return nullptr;
    chunk_next = chunk;
    chunk_end = chunk + chunk_bytes;
  }
  char* block = chunk_next;
  chunk_next += bytes;
  return block;
}

void give_back_block(char* block, std::size_t size_class) {
  spin_guard guard(heap_lock);
  auto* freed = reinterpret_cast<free_block*>(block);
  freed->next = free_lists[size_class];
  free_lists[size_class] = freed;
}

}  // namespace

void* heap_allocate(std::size_t size, std::size_t alignment) noexcept {
  if (alignment < heap_alignment) alignment = heap_alignment;
  // Room for the header and for moving the pointer up to the alignment asked for.
  std::size_t slack = sizeof(block_header) + (alignment - heap_alignment);
  if (size > SIZE_MAX / 2 - slack - page_bytes) return nullptr;
  std::size_t needed = size + slack;
  char* block = nullptr;
  std::uint64_t size_or_class = 0;
  if (needed <= largest_class_block) {
    std::size_t size_class = class_of(needed);
    block = take_block(size_class);
    size_or_class = size_class;
  } else {
    std::size_t mapped_bytes = (needed + page_bytes - 1) / page_bytes * page_bytes;
    block = static_cast<char*>(map_bytes(mapped_bytes));
    size_or_class = mapped_bytes;
  }
  if (block == nullptr) return nullptr;
  auto start = reinterpret_cast<std::uintptr_t>(block) + sizeof(block_header);
  auto handed_out = (start + alignment - 1) & ~(std::uintptr_t{alignment} - 1);
  auto* header = reinterpret_cast<block_header*>(handed_out - sizeof(block_header));
  header->size_or_class = size_or_class;
  header->offset = static_cast<std::uint32_t>(handed_out - reinterpret_cast<std::uintptr_t>(block));
  header->magic = heap_magic;
  return reinterpret_cast<void*>(handed_out);
}

void heap_deallocate(void* pointer) noexcept {
  if (pointer == nullptr) return;
  auto* header =
      reinterpret_cast<block_header*>(static_cast<char*>(pointer) - sizeof(block_header));
  if (header->magic != heap_magic) {
    // Not ours: nothing in this library should hand such a pointer here, but if something
    // does, it came from the C library's allocator, which is where it goes back.
    std::free(pointer);
    return;
  }
  char* block = static_cast<char*>(pointer) - header->offset;
  std::uint64_t size_or_class = header->size_or_class;
  header->magic = 0;  // a second delete of the pointer goes to free() instead of the lists twice
  if (size_or_class < class_count) {
    give_back_block(block, size_or_class);
  } else {
    munmap(block, size_or_class);
  }
}

void lock_internal_heap_for_fork() {
  heap_lock.lock();
}

void unlock_internal_heap_after_fork() {
  heap_lock.unlock();
}

}  // namespace lockdep::preload

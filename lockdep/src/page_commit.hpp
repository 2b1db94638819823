// Committing the validator's tables' memory in bulk.
//
// A page fault per 4 KiB page is what lazily touched anonymous memory costs, and in a virtual
// machine one fault can take 10 microseconds: a program's first pass over its locks, which
// grows every table, spent most of its time in them. One madvise(MADV_POPULATE_WRITE) call
// makes a whole range present instead, and with a huge-page hint (MADV_HUGEPAGE) the kernel may
// back it with 2 MiB pages, one allocation each. Both are hints: where the kernel lacks them
// (before Linux 5.14, or with transparent huge pages off) the pages fault in on first touch as
// before.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older C libraries lack the name
#endif

namespace lockdep::detail {

inline constexpr std::size_t page_bytes = 4096;
inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

inline std::size_t round_up(std::size_t bytes, std::size_t unit) {
  return (bytes + unit - 1) / unit * unit;
}

// Asks for huge pages behind [start, start + bytes).
inline void prefer_huge_pages(void* start, std::size_t bytes) {
  madvise(start, bytes, MADV_HUGEPAGE);
}

// Makes the pages behind [start, start + bytes) present now (start page-aligned).
inline void populate_pages(void* start, std::size_t bytes) {
  madvise(start, bytes, MADV_POPULATE_WRITE);
}

// Maps `bytes` of zeroed, populated memory, on huge pages if large enough; nullptr if mapping
// fails. Release with munmap(start, round_up(bytes, page_bytes)).
inline void* map_populated(std::size_t bytes) {
  bytes = round_up(bytes, page_bytes);
  void* mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  if (bytes >= huge_page_bytes) prefer_huge_pages(mapped, bytes);
  populate_pages(mapped, bytes);
  return mapped;
}

}  // namespace lockdep::detail

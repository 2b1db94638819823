// kmalloc and friends (mm/slub.c, mm/slab.h, include/linux/slab.h, 5.7), modelled on malloc.
//
// Each allocation does what matters to lockdep in the kernel's:
//   1. slab_pre_alloc_hook: fs_reclaim acquired and released when the (scoped) mask allows FS
//      reclaim, recording "held locks --> fs_reclaim" (traces: fs_reclaim_acquire, __kmalloc,
//      the caller);
//   2. the size is accounted against the memory budget (reclaim.hpp); over budget, the
//      allocator's slow path wakes kswapd (__GFP_KSWAPD_RECLAIM) and, when the mask allows
//      direct reclaim and the task is not reclaiming already (PF_MEMALLOC), runs one round of
//      direct reclaim (__perform_reclaim) in the caller. One round whatever __GFP_NORETRY says:
//      that flag only limits retries, and even one round is enough to block on a shrinker lock.
//   3. The allocation then succeeds. The model never fails for lack of memory (nullptr only when
//      malloc itself fails, or kcalloc overflows).
// kmalloc(0) returns ZERO_SIZE_PTR, as the kernel, without the hooks; kfree accepts it.
//
// Blocks are tracked in a registry: kfree/ksize of a pointer that kmalloc did not return, or
// that was already freed, is reported (lockdep::report_warning) and otherwise ignored, never
// touching memory. kfree(nullptr) is a no-op.
//
// Thread safety: all functions may be called from any thread. Cost: malloc plus a registry
// insert/erase under an internal (uninstrumented) mutex.
#pragma once

#include <cstddef>

#include "lockdep/mm/gfp.hpp"

namespace lockdep::mm {

inline void* const ZERO_SIZE_PTR = reinterpret_cast<void*>(16);

extern "C" {
// Kernel name, C linkage so that stack traces show it bare. __GFP_ZERO zeroes the block.
void* __kmalloc(std::size_t size, gfp_t flags);
}

// Always inlined, as in the kernel, so that traces go straight from __kmalloc to the caller
// (even in -O0 or -fno-inline builds).
[[gnu::always_inline]] inline void* kmalloc(std::size_t size, gfp_t flags) {
  return __kmalloc(size, flags);
}
[[gnu::always_inline]] inline void* kzalloc(std::size_t size, gfp_t flags) {
  return __kmalloc(size, flags | __GFP_ZERO);
}
// nullptr when n * size overflows, as the kernel's kmalloc_array.
[[gnu::always_inline]] inline void* kcalloc(std::size_t n, std::size_t size, gfp_t flags) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(n, size, &bytes)) return nullptr;
  return __kmalloc(bytes, flags | __GFP_ZERO);
}

void kfree(const void* block);
// There is no vmalloc in the model: kvfree is kfree.
void kvfree(const void* block);
// The size that was requested for a live block (the kernel may report more: its slab object
// size); 0 for nullptr and ZERO_SIZE_PTR; 0, with a report, for any other pointer that is not a
// live kmalloc block.
std::size_t ksize(const void* block);

}  // namespace lockdep::mm

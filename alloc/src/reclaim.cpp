// The memory budget, and reclaim shared by kswapd and direct reclaim: shrink_node,
// try_to_free_pages and __perform_reclaim.
#include "lockdep/mm/reclaim.hpp"

#include <atomic>

#include "lockdep/mm/fs_reclaim.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/shrinker.hpp"

namespace lockdep::mm {
namespace {

// Relaxed: pressure is a heuristic, as the kernel's watermarks are; nothing is published
// through these counters.
std::atomic<std::size_t> budget{0};
std::atomic<std::size_t> in_use{0};

}  // namespace

void set_memory_budget(std::size_t bytes) {
  budget.store(bytes, std::memory_order_relaxed);
}

std::size_t memory_in_use() {
  return in_use.load(std::memory_order_relaxed);
}

void account_alloc(std::size_t bytes) {
  in_use.fetch_add(bytes, std::memory_order_relaxed);
}

void account_free(std::size_t bytes) {
  std::size_t current = in_use.load(std::memory_order_relaxed);
  while (!in_use.compare_exchange_weak(current, current >= bytes ? current - bytes : 0,
                                       std::memory_order_relaxed)) {
  }
}

bool over_budget() {
  const std::size_t limit = budget.load(std::memory_order_relaxed);
  return limit != 0 && in_use.load(std::memory_order_relaxed) > limit;
}

[[gnu::noinline]] unsigned long shrink_node(gfp_t gfp_mask) {
  unsigned long freed = 0;
  for (int priority = DEF_PRIORITY; priority >= 0 && over_budget(); --priority) {
    freed += shrink_slab(gfp_mask, 0, priority);
  }
  return freed;
}

[[gnu::noinline]] unsigned long try_to_free_pages(gfp_t gfp_mask) {
  // The scan_control's mask: shrinkers see what the caller's scopes allow.
  const unsigned long freed = shrink_node(current_gfp_context(gfp_mask));
  asm volatile("" ::: "memory");  // keeps this frame in traces: no tail call
  return freed;
}

[[gnu::noinline]] bool __perform_reclaim(gfp_t gfp_mask) {
  fs_reclaim_acquire(gfp_mask);
  const unsigned noreclaim = memalloc_noreclaim_save();
  const unsigned long progress = try_to_free_pages(gfp_mask);
  memalloc_noreclaim_restore(noreclaim);
  fs_reclaim_release(gfp_mask);
  return progress != 0;
}

}  // namespace lockdep::mm

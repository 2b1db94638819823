// Memory pressure and page reclaim (mm/vmscan.c, mm/page_alloc.c, 5.7), modelled.
//
// Pressure: a byte budget. Allocations (slab.hpp) account what they take; shrinkers account
// what they give back (account_free). Over budget, an allocation wakes kswapd (if its mask has
// __GFP_KSWAPD_RECLAIM) and reclaims directly (if its scoped mask has __GFP_DIRECT_RECLAIM and
// the task is not already reclaiming). Reclaim means running the shrinkers (shrinker.hpp) at
// falling priorities until back under budget; there are no pages or LRU lists.
//
// kswapd: one background thread named "kswapd0" (start_kswapd), as a kernel thread with
// PF_MEMALLOC | PF_KSWAPD. Each wake-up runs balance_pgdat(), which holds fs_reclaim for its
// whole run (taken unconditionally, as vmscan.c does) while shrinkers run: the source of the
// "fs_reclaim --> shrinker locks" dependencies seen from kswapd0 in the btrfs report.
//
// Direct reclaim: __perform_reclaim() in the allocating thread: fs_reclaim_acquire(gfp), then
// PF_MEMALLOC (memalloc_noreclaim_save) while try_to_free_pages() runs the shrinkers with the
// scoped mask (current_gfp_context), so NOFS callers skip FS shrinkers.
//
// Thread safety: all functions may be called from any thread. start/stop_kswapd must not race
// with each other. Tests that start kswapd must stop it before they end.
#pragma once

#include <chrono>
#include <cstddef>

#include "lockdep/mm/gfp.hpp"

namespace lockdep::mm {

inline constexpr int DEF_PRIORITY = 12;

// Budget in bytes; 0 (the default) means unlimited: never over budget.
void set_memory_budget(std::size_t bytes);
std::size_t memory_in_use();
void account_alloc(std::size_t bytes);
void account_free(std::size_t bytes);  // saturates at 0
bool over_budget();                    // in use > budget, with a budget set

// Starts / stops the kswapd0 thread; both are no-ops when it is already running / stopped. A
// wake-up pending at stop is dropped.
void start_kswapd();
void stop_kswapd();
// Asks kswapd for a balance_pgdat pass (the kernel's wakeup_kswapd); no-op when not started.
void wakeup_kswapd();
// Completed balance_pgdat passes since program start, on any thread.
std::size_t kswapd_runs();
// Waits until kswapd has no wake-up pending and is not running a pass; true if it got there
// within the timeout (or kswapd is not started).
bool wait_for_kswapd_idle(std::chrono::milliseconds timeout);
// One balance_pgdat pass on the calling thread, with kswapd's task flags for its duration.
unsigned long run_kswapd_pass_here();

// Kernel names, C linkage so that stack traces show them bare.
extern "C" {
// kswapd's thread function: sets PF_MEMALLOC | PF_KSWAPD, then sleeps until woken and runs
// balance_pgdat(0) per wake-up, until stop_kswapd(). `pgdat` is unused (one node).
int kswapd(void* pgdat);
// Holds fs_reclaim (__fs_reclaim_acquire) while shrink_node(GFP_KERNEL) runs; returns freed.
unsigned long balance_pgdat(int order);
// shrink_slab(gfp_mask, 0, priority) for priority DEF_PRIORITY down to 0 while over budget;
// returns the objects freed.
unsigned long shrink_node(gfp_t gfp_mask);
// Direct reclaim proper: shrink_node(current_gfp_context(gfp_mask)).
unsigned long try_to_free_pages(gfp_t gfp_mask);
// fs_reclaim_acquire(gfp); PF_MEMALLOC; try_to_free_pages; restore; fs_reclaim_release(gfp).
// True if anything was freed.
bool __perform_reclaim(gfp_t gfp_mask);
}

}  // namespace lockdep::mm

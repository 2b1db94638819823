// The fs_reclaim pseudo-lock (mm/page_alloc.c, 5.7, CONFIG_LOCKDEP).
//
// Memory reclaim may call into filesystems, which take their own locks. The kernel tells lockdep
// so with a lock that has no storage and never blocks, "fs_reclaim":
//   - every allocation that could enter FS reclaim acquires and releases it at once
//     (slab_pre_alloc_hook, prepare_alloc_pages): this records "held locks --> fs_reclaim";
//   - reclaim holds it while shrinkers run (direct reclaim: __perform_reclaim; kswapd:
//     balance_pgdat): this records "fs_reclaim --> every lock a shrinker takes".
// A lock held across a GFP_KERNEL allocation and also taken by a shrinker thus closes a cycle,
// reported even if memory was never short.
//
// Traces: fs_reclaim_acquire() passes its own return address as the acquisition ip, so the
// dependency's stack trace starts `fs_reclaim_acquire+0x..` followed by its caller (`__kmalloc`),
// as in the kernel's reports.
//
// Thread safety: all functions may be called from any thread; each acts on the calling thread's
// held locks and task flags.
#pragma once

#include "lockdep/lock_map.hpp"
#include "lockdep/mm/gfp.hpp"

namespace lockdep::mm {

// The single "fs_reclaim" map (STATIC_LOCKDEP_MAP_INIT). Never destroyed.
lock_map& fs_reclaim_map();

// The 5.7 __need_fs_reclaim(): after current_gfp_context(), true only for an allocation that may
// enter direct reclaim (__GFP_DIRECT_RECLAIM), by a task not already reclaiming (no
// PF_MEMALLOC), that allows FS reclaim (__GFP_FS) and did not opt out (__GFP_NOLOCKDEP).
bool need_fs_reclaim(gfp_t gfp_mask);

// Kernel names, C linkage so that stack traces show them bare.
extern "C" {
// Acquire / release fs_reclaim when need_fs_reclaim(gfp_mask). Release re-evaluates the rules,
// as the kernel does: call both with the same mask and the same scopes.
void fs_reclaim_acquire(gfp_t gfp_mask);
void fs_reclaim_release(gfp_t gfp_mask);
// Unconditional forms, used by kswapd.
void __fs_reclaim_acquire();
void __fs_reclaim_release();
}

// The kernel's might_alloc() (5.11; the model's allocation-site annotation): fs_reclaim acquired
// and released at once when the rules say so. Allocators that want their own frame right under
// fs_reclaim_acquire in traces (as __kmalloc) call the pair themselves instead.
void might_alloc(gfp_t gfp_mask);

}  // namespace lockdep::mm

// Shrinkers: caches that give memory back under pressure (include/linux/shrinker.h and the
// shrinker part of mm/vmscan.c, 5.7).
//
// A subsystem registers a shrinker with two callbacks: count_objects (how many objects could be
// freed) and scan_objects (free up to sc.nr_to_scan of them; return how many were freed, or
// SHRINK_STOP when it cannot make progress now, e.g. a trylock failed or the gfp mask forbids
// FS calls). Reclaim (reclaim.hpp: kswapd and direct reclaim) calls shrink_slab(), which walks
// the registered shrinkers under shrinker_rwsem taken for read with a trylock, and asks each for
// a share that depends on the reclaim priority (do_shrink_slab). Work a shrinker could not do is
// carried over ("deferred") to its next call.
//
// Callbacks run on whatever thread reclaims (an allocating thread or kswapd0), with fs_reclaim
// held and shrinker_rwsem read-held: every lock a callback takes is recorded as depending on
// both. Callbacks must not register or unregister shrinkers.
//
// Thread safety: all functions may be called from any thread. register/unregister take
// shrinker_rwsem for write, so unregister_shrinker() waits for running callbacks.
#pragma once

#include <atomic>
#include <functional>

#include "lockdep/mm/gfp.hpp"
#include "lockdep/shared_mutex.hpp"

namespace lockdep::mm {

struct shrink_control {
  gfp_t gfp_mask;  // the reclaiming allocation's mask, after its scopes
  int nid;         // NUMA node: always 0 in the model
  // How many objects scan_objects should scan; set before every call.
  unsigned long nr_to_scan;
  // How many it did scan: preset to nr_to_scan; a callback may lower it.
  unsigned long nr_scanned;
};

inline constexpr unsigned long SHRINK_STOP = ~0UL;
inline constexpr unsigned long SHRINK_EMPTY = ~0UL - 1;  // count_objects: nothing at all cached
inline constexpr int DEFAULT_SEEKS = 2;
inline constexpr long SHRINK_BATCH = 128;  // scan batch when shrinker::batch is 0

// Registered by address, so neither copyable nor movable once built (aggregate initialization
// with designated initializers works).
struct shrinker {
  std::function<unsigned long(shrinker&, shrink_control&)> count_objects;
  std::function<unsigned long(shrinker&, shrink_control&)> scan_objects;
  int seeks = DEFAULT_SEEKS;  // cost to recreate an object; 0: trim aggressively
  long batch = 0;             // objects per scan_objects call; 0: SHRINK_BATCH
  // The model's stand-in for a filesystem shrinker that needs __GFP_FS (super_cache_scan
  // returns SHRINK_STOP without it): shrink_slab skips it when the mask lacks __GFP_FS.
  bool needs_fs = false;
  // Internal: scan work carried over to the next call (the kernel's nr_deferred[0]).
  std::atomic<long> nr_deferred{0};
};

// The "shrinker_rwsem" rw_semaphore. Never destroyed.
lockdep::shared_mutex& shrinker_rwsem();

// Adds / removes a shrinker, taking shrinker_rwsem for write. register_shrinker returns 0, or
// -EINVAL (-22) when a callback is missing; registering twice or unregistering an unknown
// shrinker is reported (lockdep::report_warning) and ignored.
int register_shrinker(shrinker* s);
void unregister_shrinker(shrinker* s);

// Kernel names, C linkage so that stack traces show them bare.
extern "C" {
// Runs every registered shrinker once at `priority` (12 = DEF_PRIORITY, gentlest, down to 0);
// returns the objects freed. Does nothing if shrinker_rwsem is not free for reading (the
// kernel's down_read_trylock), so reclaim never waits for a (un)registration.
unsigned long shrink_slab(gfp_t gfp_mask, int nid, int priority);
// One shrinker, with the kernel's arithmetic: freeable = count_objects; delta =
// (freeable >> priority) * 4 / seeks (freeable / 2 when seeks == 0); total_scan = deferred +
// delta, limited to freeable / 2 when delta < freeable / 4 and to 2 * freeable; then
// scan_objects in batches while total_scan >= batch or >= freeable; the unscanned rest of
// deferred + delta is deferred. Returns the objects freed (count_objects' 0 or SHRINK_EMPTY as
// is).
unsigned long do_shrink_slab(shrink_control* sc, shrinker* s, int priority);
}

}  // namespace lockdep::mm

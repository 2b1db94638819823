// The shrinker list, shrink_slab() and do_shrink_slab() (mm/vmscan.c, 5.7).
#include "lockdep/mm/shrinker.hpp"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "lockdep/validator.hpp"

namespace lockdep::mm {
namespace {

constexpr int einval = 22;

// Guarded by shrinker_rwsem (the real lock inside it).
std::vector<shrinker*>& shrinker_list() {
  static std::vector<shrinker*>* const list = new std::vector<shrinker*>;
  return *list;
}

}  // namespace

lockdep::shared_mutex& shrinker_rwsem() {
  // Leaked on purpose: reclaim threads may still use it during static destruction.
  static lockdep::shared_mutex* const rwsem = new lockdep::shared_mutex("shrinker_rwsem");
  return *rwsem;
}

int register_shrinker(shrinker* s) {
  if (!s->count_objects || !s->scan_objects) return -einval;
  std::unique_lock write(shrinker_rwsem());
  std::vector<shrinker*>& list = shrinker_list();
  if (std::find(list.begin(), list.end(), s) != list.end()) {
    report_warning("register_shrinker(): shrinker already registered", LOCKDEP_RET_IP);
    return 0;
  }
  s->nr_deferred.store(0, std::memory_order_relaxed);
  list.push_back(s);
  return 0;
}

void unregister_shrinker(shrinker* s) {
  std::unique_lock write(shrinker_rwsem());
  std::vector<shrinker*>& list = shrinker_list();
  auto found = std::find(list.begin(), list.end(), s);
  if (found == list.end()) {
    report_warning("unregister_shrinker(): shrinker not registered", LOCKDEP_RET_IP);
    return;
  }
  list.erase(found);
}

[[gnu::noinline]] unsigned long do_shrink_slab(shrink_control* sc, shrinker* s, int priority) {
  const long batch_size = s->batch != 0 ? s->batch : SHRINK_BATCH;
  const unsigned long counted = s->count_objects(*s, *sc);
  if (counted == 0 || counted == SHRINK_EMPTY) return counted;
  const long freeable = static_cast<long>(counted);

  // Take the deferred work so that concurrent reclaimers do not also do it.
  const long nr = s->nr_deferred.exchange(0);
  unsigned long long delta;
  if (s->seeks != 0) {
    delta = (static_cast<unsigned long long>(freeable) >> priority) * 4 / s->seeks;
  } else {
    delta = freeable / 2;  // objects that cost no I/O to recreate: trim hard
  }
  long total_scan = nr + static_cast<long>(delta);
  long next_deferred = total_scan;
  if (total_scan < 0) {  // overflowed: the kernel complains and scans one cache's worth
    total_scan = freeable;
    next_deferred = nr;
  }
  // Deferred work from many NOFS-failed calls must not empty a cache in one go: only a large
  // delta of its own may scan more than half of it.
  if (delta < static_cast<unsigned long long>(freeable / 4)) {
    total_scan = std::min(total_scan, freeable / 2);
  }
  total_scan = std::min(total_scan, freeable * 2);

  unsigned long freed = 0;
  long scanned = 0;
  // Below a batch only when total_scan covers the whole cache (tight on memory).
  while (total_scan >= batch_size || total_scan >= freeable) {
    const long nr_to_scan = std::min(batch_size, total_scan);
    sc->nr_to_scan = static_cast<unsigned long>(nr_to_scan);
    sc->nr_scanned = static_cast<unsigned long>(nr_to_scan);
    const unsigned long ret = s->scan_objects(*s, *sc);
    if (ret == SHRINK_STOP) break;
    freed += ret;
    total_scan -= static_cast<long>(sc->nr_scanned);
    scanned += static_cast<long>(sc->nr_scanned);
  }

  next_deferred = next_deferred >= scanned ? next_deferred - scanned : 0;
  if (next_deferred > 0) s->nr_deferred.fetch_add(next_deferred);
  return freed;
}

[[gnu::noinline]] unsigned long shrink_slab(gfp_t gfp_mask, int nid, int priority) {
  lockdep::shared_mutex& rwsem = shrinker_rwsem();
  if (!rwsem.try_lock_shared()) return 0;
  unsigned long freed = 0;
  for (shrinker* s : shrinker_list()) {
    if (s->needs_fs && (gfp_mask & __GFP_FS) == 0) continue;
    shrink_control sc{gfp_mask, nid, 0, 0};
    unsigned long ret = do_shrink_slab(&sc, s, priority);
    if (ret == SHRINK_EMPTY) ret = 0;
    freed += ret;
  }
  rwsem.unlock_shared();
  return freed;
}

}  // namespace lockdep::mm

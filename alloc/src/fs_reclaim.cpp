// The fs_reclaim pseudo-lock and the rules for when an allocation takes it.
#include "lockdep/mm/fs_reclaim.hpp"

#include "lockdep/mm/memalloc.hpp"
#include "lockdep/validator.hpp"

namespace lockdep::mm {

lock_map& fs_reclaim_map() {
  // Leaked on purpose: kernel threads of the model may still use it during static destruction.
  static lock_map* const map = new lock_map("fs_reclaim");
  return *map;
}

bool need_fs_reclaim(gfp_t gfp_mask) {
  gfp_mask = current_gfp_context(gfp_mask);
  if ((gfp_mask & __GFP_DIRECT_RECLAIM) == 0) return false;     // no reclaim without waiting
  if ((current_task_flags() & PF_MEMALLOC) != 0) return false;  // already reclaiming
  if ((gfp_mask & __GFP_FS) == 0) return false;  // only FS reclaim is annotated (as in 5.7)
  if ((gfp_mask & __GFP_NOLOCKDEP) != 0) return false;
  return true;
}

// The empty asm after each inner call keeps the compiler from turning it into a tail call, which
// would drop this function's frame from the traces that must show it.

[[gnu::noinline]] void fs_reclaim_acquire(gfp_t gfp_mask) {
  if (need_fs_reclaim(gfp_mask)) lock_acquire(fs_reclaim_map(), {}, LOCKDEP_RET_IP);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void fs_reclaim_release(gfp_t gfp_mask) {
  if (need_fs_reclaim(gfp_mask)) lock_release(fs_reclaim_map(), LOCKDEP_RET_IP);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void __fs_reclaim_acquire() {
  lock_acquire(fs_reclaim_map(), {}, LOCKDEP_RET_IP);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void __fs_reclaim_release() {
  lock_release(fs_reclaim_map(), LOCKDEP_RET_IP);
  asm volatile("" ::: "memory");
}

void might_alloc(gfp_t gfp_mask) {
  fs_reclaim_acquire(gfp_mask);
  fs_reclaim_release(gfp_mask);
}

}  // namespace lockdep::mm

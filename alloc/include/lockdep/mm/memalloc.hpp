// Task flags and scoped allocation contexts (include/linux/sched/mm.h, 5.7).
//
// Each thread has a flags word, the model of `current->flags`. A scope such as
// memalloc_nofs_save() ... memalloc_nofs_restore() marks a section in which every allocation
// behaves as if its gfp mask lacked __GFP_FS, whatever the caller passed: current_gfp_context()
// applies the scopes, and the allocator, fs_reclaim and reclaim all consult it. This is how
// btrfs protects its transaction paths, and what pcpu_alloc() ignored before 5.7-rc5.
//
// Save/restore tokens. Unlike the kernel, which returns the old flag bit, save returns an opaque
// token that encodes the old bit AND the depth of the save among the thread's open saves (of all
// three kinds). Callers must pass back exactly the value save returned, and restore in reverse
// order of saving, as the kernel requires; at most 255 saves may be open at once per thread.
// A restore that is not of the innermost open save, or that passes a value save never returned
// (or one already restored), is reported with lockdep::report_warning() and the program
// continues: the flags are left meaning "inside the scopes still open" (an out-of-order restore
// closes its own scope only; an unknown value changes nothing).
//
// Thread safety: everything acts on the calling thread's own state only.
#pragma once

#include "lockdep/mm/gfp.hpp"

namespace lockdep::mm {

inline constexpr unsigned PF_MEMALLOC = 0x800;  // reclaiming: never recurse into reclaim
inline constexpr unsigned PF_KSWAPD = 0x20000;
inline constexpr unsigned PF_MEMALLOC_NOFS = 0x40000;  // every allocation is GFP_NOFS-like
inline constexpr unsigned PF_MEMALLOC_NOIO = 0x80000;  // every allocation is GFP_NOIO-like
inline constexpr unsigned PF_KTHREAD = 0x200000;

// The calling thread's flags word (0 for a new thread). Setting it directly bypasses the scope
// bookkeeping: kernel threads use it once at start, as kswapd sets PF_MEMALLOC | PF_KSWAPD.
unsigned current_task_flags();
void set_current_task_flags(unsigned flags);

// Open a scope (sets the flag) and return its token; restore closes it (see above).
unsigned memalloc_nofs_save();
void memalloc_nofs_restore(unsigned token);
unsigned memalloc_noio_save();
void memalloc_noio_restore(unsigned token);
// PF_MEMALLOC: used by reclaim itself so that allocations made while reclaiming neither
// reclaim again nor take fs_reclaim.
unsigned memalloc_noreclaim_save();
void memalloc_noreclaim_restore(unsigned token);

// The 5.7 current_gfp_context(): under PF_MEMALLOC_NOIO clears __GFP_IO and __GFP_FS, else
// under PF_MEMALLOC_NOFS clears __GFP_FS. NOIO wins, being the weaker context. Never clears
// __GFP_DIRECT_RECLAIM: a GFP_KERNEL allocation in a NOFS scope (GFP_NOFS) may still sleep.
gfp_t current_gfp_context(gfp_t flags);

// RAII forms: save on construction, restore on destruction. Not copyable or movable (a scope
// belongs to one thread and one block).
class memalloc_nofs_scope {
 public:
  memalloc_nofs_scope() : token_(memalloc_nofs_save()) {}
  ~memalloc_nofs_scope() { memalloc_nofs_restore(token_); }
  memalloc_nofs_scope(const memalloc_nofs_scope&) = delete;
  memalloc_nofs_scope& operator=(const memalloc_nofs_scope&) = delete;

 private:
  unsigned token_;
};

class memalloc_noio_scope {
 public:
  memalloc_noio_scope() : token_(memalloc_noio_save()) {}
  ~memalloc_noio_scope() { memalloc_noio_restore(token_); }
  memalloc_noio_scope(const memalloc_noio_scope&) = delete;
  memalloc_noio_scope& operator=(const memalloc_noio_scope&) = delete;

 private:
  unsigned token_;
};

class memalloc_noreclaim_scope {
 public:
  memalloc_noreclaim_scope() : token_(memalloc_noreclaim_save()) {}
  ~memalloc_noreclaim_scope() { memalloc_noreclaim_restore(token_); }
  memalloc_noreclaim_scope(const memalloc_noreclaim_scope&) = delete;
  memalloc_noreclaim_scope& operator=(const memalloc_noreclaim_scope&) = delete;

 private:
  unsigned token_;
};

}  // namespace lockdep::mm

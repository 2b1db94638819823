// The task flags word and the memalloc_*_save/restore scopes, with misuse reports.
#include "lockdep/mm/memalloc.hpp"

#include <string>
#include <vector>

#include "lockdep/validator.hpp"

namespace lockdep::mm {
namespace {

// Token layout: the saved flag bit where it lives in the flags word (all three flags are below
// bit 20), the save's 1-based depth in bits 20..27, and 4 bits of a per-thread save counter in
// bits 28..31 so that restoring a token twice is caught even after its slot was reused (15 in 16
// times). Depth 0 never comes from a save.
constexpr unsigned depth_shift = 20;
constexpr unsigned depth_mask = 0xFF;
constexpr unsigned generation_shift = 28;
constexpr unsigned generation_mask = 0xF;

struct open_save {
  unsigned flag;        // PF_MEMALLOC_NOFS, PF_MEMALLOC_NOIO or PF_MEMALLOC
  unsigned saved_bit;   // flag's value before the save (flag or 0)
  unsigned generation;  // low bits of the save counter when it was made
  bool open;            // false: restored out of order, waiting for the saves above it to close
};

thread_local unsigned task_flags = 0;
// The thread's saves, outermost first. Closed entries stay until everything above them closes,
// so that the depth in every outstanding token keeps naming its own entry.
thread_local std::vector<open_save> saves;
thread_local unsigned save_counter = 0;

const char* scope_name(unsigned flag) {
  switch (flag) {
    case PF_MEMALLOC_NOFS:
      return "memalloc_nofs";
    case PF_MEMALLOC_NOIO:
      return "memalloc_noio";
    default:
      return "memalloc_noreclaim";
  }
}

unsigned save(unsigned flag, const void* ip) {
  const unsigned saved_bit = task_flags & flag;
  task_flags |= flag;
  if (saves.size() >= depth_mask) {
    report_warning(std::string(scope_name(flag)) + "_save(): more than " +
                       std::to_string(depth_mask) + " scopes open; this one cannot be tracked",
                   ip);
    return saved_bit;  // depth 0: its restore will be reported too, and change nothing
  }
  const unsigned generation = save_counter++ & generation_mask;
  saves.push_back({flag, saved_bit, generation, true});
  return saved_bit | (static_cast<unsigned>(saves.size()) << depth_shift) |
         (generation << generation_shift);
}

// Closes saves[index] when scopes opened after it are still open. Any later open save of the
// same flag inherits this one's saved bit (it is now the outermost of its kind), and the flag
// stays set while any save of its kind remains open.
void close_out_of_order(std::size_t index) {
  open_save& closing = saves[index];
  closing.open = false;
  bool still_inside = false;
  for (std::size_t i = 0; i < saves.size(); ++i) {
    if (i == index || !saves[i].open || saves[i].flag != closing.flag) continue;
    if (i > index && !still_inside) saves[i].saved_bit = closing.saved_bit;
    still_inside = true;
  }
  if (!still_inside) task_flags = (task_flags & ~closing.flag) | closing.saved_bit;
}

void restore(unsigned flag, unsigned token, const void* ip) {
  const std::size_t depth = (token >> depth_shift) & depth_mask;
  const unsigned generation = (token >> generation_shift) & generation_mask;
  const std::string restoring = std::string(scope_name(flag)) + "_restore()";
  if (depth == 0 || depth > saves.size() || !saves[depth - 1].open ||
      saves[depth - 1].flag != flag || saves[depth - 1].generation != generation) {
    report_warning(restoring + " with a value that is not an open " + scope_name(flag) +
                       "_save() token (never returned by it, or already restored); flags left "
                       "unchanged",
                   ip);
    return;
  }
  const std::size_t index = depth - 1;
  if (index + 1 == saves.size()) {
    // In order: the kernel's restore. The entry's bit, not the token's: it may have inherited an
    // outer save's bit after that one was restored out of order.
    task_flags = (task_flags & ~flag) | saves[index].saved_bit;
    saves.pop_back();
  } else {
    const open_save& innermost = saves.back();
    report_warning(restoring + " out of order: the innermost open scope is " +
                       scope_name(innermost.flag) + "_save() (depth " +
                       std::to_string(saves.size()) + "), not the " + scope_name(flag) +
                       "_save() being restored (depth " + std::to_string(depth) + ")",
                   ip);
    close_out_of_order(index);
  }
  while (!saves.empty() && !saves.back().open) saves.pop_back();
}

}  // namespace

unsigned current_task_flags() {
  return task_flags;
}

void set_current_task_flags(unsigned flags) {
  task_flags = flags;
}

unsigned memalloc_nofs_save() {
  return save(PF_MEMALLOC_NOFS, LOCKDEP_RET_IP);
}
void memalloc_nofs_restore(unsigned token) {
  restore(PF_MEMALLOC_NOFS, token, LOCKDEP_RET_IP);
}
unsigned memalloc_noio_save() {
  return save(PF_MEMALLOC_NOIO, LOCKDEP_RET_IP);
}
void memalloc_noio_restore(unsigned token) {
  restore(PF_MEMALLOC_NOIO, token, LOCKDEP_RET_IP);
}
unsigned memalloc_noreclaim_save() {
  return save(PF_MEMALLOC, LOCKDEP_RET_IP);
}
void memalloc_noreclaim_restore(unsigned token) {
  restore(PF_MEMALLOC, token, LOCKDEP_RET_IP);
}

gfp_t current_gfp_context(gfp_t flags) {
  const unsigned pflags = task_flags;
  if ((pflags & PF_MEMALLOC_NOIO) != 0) {
    flags &= ~(__GFP_IO | __GFP_FS);
  } else if ((pflags & PF_MEMALLOC_NOFS) != 0) {
    flags &= ~__GFP_FS;
  }
  return flags;
}

}  // namespace lockdep::mm

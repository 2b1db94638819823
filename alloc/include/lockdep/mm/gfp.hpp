// GFP ("get free pages") flags: how an allocation may behave, with the Linux 5.7 values
// (include/linux/gfp.h with CONFIG_LOCKDEP), and their printed form.
//
// The values are those of v5.7 on purpose: later kernels renumbered the bits and dropped
// __GFP_ATOMIC, and the model reproduces a 5.7 bug. Whether an allocation may sleep, reclaim or
// call into a filesystem is decided from these bits after current_gfp_context() (memalloc.hpp)
// has applied the task's scopes.
//
// Everything here is constant or pure: thread-safe.
#pragma once

#include <string>

namespace lockdep::mm {

using gfp_t = unsigned int;

// These identifiers start with double underscores because they are the kernel's names, which a
// kernel developer reading the model must recognise.
inline constexpr gfp_t __GFP_DMA = 0x01;
inline constexpr gfp_t __GFP_HIGHMEM = 0x02;
inline constexpr gfp_t __GFP_DMA32 = 0x04;
inline constexpr gfp_t __GFP_MOVABLE = 0x08;
inline constexpr gfp_t __GFP_RECLAIMABLE = 0x10;
inline constexpr gfp_t __GFP_HIGH = 0x20;
inline constexpr gfp_t __GFP_IO = 0x40;  // reclaim may start physical I/O
inline constexpr gfp_t __GFP_FS = 0x80;  // reclaim may call into filesystems (fs shrinkers)
inline constexpr gfp_t __GFP_ZERO = 0x100;
inline constexpr gfp_t __GFP_ATOMIC = 0x200;
inline constexpr gfp_t __GFP_DIRECT_RECLAIM = 0x400;  // may enter direct reclaim: may sleep
inline constexpr gfp_t __GFP_KSWAPD_RECLAIM = 0x800;  // wake kswapd when memory is low
inline constexpr gfp_t __GFP_WRITE = 0x1000;
inline constexpr gfp_t __GFP_NOWARN = 0x2000;
inline constexpr gfp_t __GFP_RETRY_MAYFAIL = 0x4000;
inline constexpr gfp_t __GFP_NOFAIL = 0x8000;
inline constexpr gfp_t __GFP_NORETRY = 0x10000;  // one round of direct reclaim, then fail
inline constexpr gfp_t __GFP_MEMALLOC = 0x20000;
inline constexpr gfp_t __GFP_COMP = 0x40000;
inline constexpr gfp_t __GFP_NOMEMALLOC = 0x80000;
inline constexpr gfp_t __GFP_HARDWALL = 0x100000;
inline constexpr gfp_t __GFP_THISNODE = 0x200000;
inline constexpr gfp_t __GFP_ACCOUNT = 0x400000;
inline constexpr gfp_t __GFP_NOLOCKDEP = 0x800000;  // skip the fs_reclaim annotation

inline constexpr gfp_t __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;

inline constexpr gfp_t GFP_ATOMIC = __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM;
inline constexpr gfp_t GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
inline constexpr gfp_t GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
inline constexpr gfp_t GFP_NOWAIT = __GFP_KSWAPD_RECLAIM;
inline constexpr gfp_t GFP_NOIO = __GFP_RECLAIM;
inline constexpr gfp_t GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
inline constexpr gfp_t GFP_USER = GFP_KERNEL | __GFP_HARDWALL;
inline constexpr gfp_t GFP_DMA = __GFP_DMA;
inline constexpr gfp_t GFP_DMA32 = __GFP_DMA32;
inline constexpr gfp_t GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
inline constexpr gfp_t GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;
inline constexpr gfp_t GFP_TRANSHUGE_LIGHT =
    (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
inline constexpr gfp_t GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

// Whether the allocation may sleep (enter direct reclaim). Looks at the bits given: apply
// current_gfp_context() first if the task's scopes matter (they never clear this bit in 5.7).
constexpr bool gfpflags_allow_blocking(gfp_t gfp_mask) {
  return (gfp_mask & __GFP_DIRECT_RECLAIM) != 0;
}

// The kernel's %pGg: names joined by '|', composites first in the order of mmflags.h
// (__def_gfpflag_names), then single flags; bits no name covers as one "0x..." (lowercase hex);
// "0" for no bits (the kernel prints nothing there, which reads badly in a log line).
// Examples: "GFP_KERNEL|__GFP_NOWARN", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOWAIT|0x800000".
std::string format_gfp(gfp_t gfp_mask);

}  // namespace lockdep::mm

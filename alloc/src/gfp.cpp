// format_gfp: the kernel's %pGg rendering of a gfp mask.
#include "lockdep/mm/gfp.hpp"

#include <cstdio>
#include <iterator>

namespace lockdep::mm {
namespace {

struct gfp_name {
  gfp_t mask;
  const char* name;
};

// include/trace/events/mmflags.h (5.7), in its order: a composite must come before the flags it
// contains, and wider composites before narrower ones, so GFP_KERNEL wins over GFP_NOFS.
constexpr gfp_name gfp_names[] = {
    {GFP_TRANSHUGE, "GFP_TRANSHUGE"},
    {GFP_TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT"},
    {GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"},
    {GFP_HIGHUSER, "GFP_HIGHUSER"},
    {GFP_USER, "GFP_USER"},
    {GFP_KERNEL_ACCOUNT, "GFP_KERNEL_ACCOUNT"},
    {GFP_KERNEL, "GFP_KERNEL"},
    {GFP_NOFS, "GFP_NOFS"},
    {GFP_ATOMIC, "GFP_ATOMIC"},
    {GFP_NOIO, "GFP_NOIO"},
    {GFP_NOWAIT, "GFP_NOWAIT"},
    {GFP_DMA, "GFP_DMA"},
    {__GFP_HIGHMEM, "__GFP_HIGHMEM"},
    {GFP_DMA32, "GFP_DMA32"},
    {__GFP_HIGH, "__GFP_HIGH"},
    {__GFP_ATOMIC, "__GFP_ATOMIC"},
    {__GFP_IO, "__GFP_IO"},
    {__GFP_FS, "__GFP_FS"},
    {__GFP_NOWARN, "__GFP_NOWARN"},
    {__GFP_RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL"},
    {__GFP_NOFAIL, "__GFP_NOFAIL"},
    {__GFP_NORETRY, "__GFP_NORETRY"},
    {__GFP_COMP, "__GFP_COMP"},
    {__GFP_ZERO, "__GFP_ZERO"},
    {__GFP_NOMEMALLOC, "__GFP_NOMEMALLOC"},
    {__GFP_MEMALLOC, "__GFP_MEMALLOC"},
    {__GFP_HARDWALL, "__GFP_HARDWALL"},
    {__GFP_THISNODE, "__GFP_THISNODE"},
    {__GFP_RECLAIMABLE, "__GFP_RECLAIMABLE"},
    {__GFP_MOVABLE, "__GFP_MOVABLE"},
    {__GFP_ACCOUNT, "__GFP_ACCOUNT"},
    {__GFP_WRITE, "__GFP_WRITE"},
    {__GFP_RECLAIM, "__GFP_RECLAIM"},
    {__GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"},
    {__GFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM"},
};

}  // namespace

std::string format_gfp(gfp_t gfp_mask) {
  if (gfp_mask == 0) return "0";
  std::string text;
  gfp_t left = gfp_mask;
  // As vsprintf's format_flags(): a name is used only when all its bits are still unnamed.
  for (auto entry = std::begin(gfp_names); left != 0 && entry != std::end(gfp_names); ++entry) {
    if ((left & entry->mask) != entry->mask) continue;
    if (!text.empty()) text += '|';
    text += entry->name;
    left &= ~entry->mask;
  }
  if (left != 0) {
    char rest[16];
    std::snprintf(rest, sizeof rest, "%#x", left);
    if (!text.empty()) text += '|';
    text += rest;
  }
  return text;
}

}  // namespace lockdep::mm

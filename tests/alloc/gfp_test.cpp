// GFP flag values (v5.7), composites, their %pGg rendering and gfpflags_allow_blocking.
#include <catch2/catch.hpp>

#include "lockdep/mm/gfp.hpp"

using namespace lockdep::mm;

TEST_CASE("single gfp flags have their v5.7 values", "[gfp]") {
  CHECK(__GFP_DMA == 0x01);
  CHECK(__GFP_HIGHMEM == 0x02);
  CHECK(__GFP_DMA32 == 0x04);
  CHECK(__GFP_MOVABLE == 0x08);
  CHECK(__GFP_RECLAIMABLE == 0x10);
  CHECK(__GFP_HIGH == 0x20);
  CHECK(__GFP_IO == 0x40);
  CHECK(__GFP_FS == 0x80);
  CHECK(__GFP_ZERO == 0x100);
  CHECK(__GFP_ATOMIC == 0x200);
  CHECK(__GFP_DIRECT_RECLAIM == 0x400);
  CHECK(__GFP_KSWAPD_RECLAIM == 0x800);
  CHECK(__GFP_WRITE == 0x1000);
  CHECK(__GFP_NOWARN == 0x2000);
  CHECK(__GFP_RETRY_MAYFAIL == 0x4000);
  CHECK(__GFP_NOFAIL == 0x8000);
  CHECK(__GFP_NORETRY == 0x10000);
  CHECK(__GFP_MEMALLOC == 0x20000);
  CHECK(__GFP_COMP == 0x40000);
  CHECK(__GFP_NOMEMALLOC == 0x80000);
  CHECK(__GFP_HARDWALL == 0x100000);
  CHECK(__GFP_THISNODE == 0x200000);
  CHECK(__GFP_ACCOUNT == 0x400000);
  CHECK(__GFP_NOLOCKDEP == 0x800000);
}

TEST_CASE("composite gfp masks have their v5.7 values", "[gfp]") {
  CHECK(__GFP_RECLAIM == 0xC00);
  CHECK(GFP_ATOMIC == 0xA20);
  CHECK(GFP_KERNEL == 0xCC0);
  CHECK(GFP_KERNEL_ACCOUNT == 0x400CC0);
  CHECK(GFP_NOWAIT == 0x800);
  CHECK(GFP_NOIO == 0xC00);
  CHECK(GFP_NOFS == 0xC40);
  CHECK(GFP_USER == 0x100CC0);
  // The per-CPU allocator's worker mask and whitelist in the btrfs report.
  CHECK((GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN) == 0x12CC0);
}

TEST_CASE("format_gfp prints composites first, in the kernel's table order", "[gfp]") {
  CHECK(format_gfp(GFP_KERNEL) == "GFP_KERNEL");
  CHECK(format_gfp(GFP_NOFS) == "GFP_NOFS");
  CHECK(format_gfp(GFP_NOIO) == "GFP_NOIO");
  CHECK(format_gfp(GFP_ATOMIC) == "GFP_ATOMIC");
  CHECK(format_gfp(GFP_NOWAIT) == "GFP_NOWAIT");
  CHECK(format_gfp(GFP_USER) == "GFP_USER");
  CHECK(format_gfp(GFP_KERNEL_ACCOUNT) == "GFP_KERNEL_ACCOUNT");
  CHECK(format_gfp(GFP_HIGHUSER_MOVABLE) == "GFP_HIGHUSER_MOVABLE");
  CHECK(format_gfp(GFP_TRANSHUGE) == "GFP_TRANSHUGE");
  CHECK(format_gfp(GFP_KERNEL | __GFP_NOWARN) == "GFP_KERNEL|__GFP_NOWARN");
  // Table order, not bit order: NOWARN (0x2000) is listed before NORETRY (0x10000).
  CHECK(format_gfp(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN) ==
        "GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY");
  CHECK(format_gfp(GFP_NOFS | __GFP_ZERO) == "GFP_NOFS|__GFP_ZERO");
  CHECK(format_gfp(GFP_ATOMIC | __GFP_NOWARN) == "GFP_ATOMIC|__GFP_NOWARN");
  // __GFP_RECLAIM is GFP_NOIO, which the table names first.
  CHECK(format_gfp(__GFP_RECLAIM) == "GFP_NOIO");
}

TEST_CASE("format_gfp prints single flags when no composite covers them", "[gfp]") {
  CHECK(format_gfp(__GFP_IO | __GFP_FS) == "__GFP_IO|__GFP_FS");
  CHECK(format_gfp(__GFP_DIRECT_RECLAIM) == "__GFP_DIRECT_RECLAIM");
  CHECK(format_gfp(__GFP_DIRECT_RECLAIM | __GFP_FS) == "__GFP_FS|__GFP_DIRECT_RECLAIM");
  CHECK(format_gfp(__GFP_DMA) == "GFP_DMA");
  CHECK(format_gfp(__GFP_HIGH | __GFP_ZERO) == "__GFP_HIGH|__GFP_ZERO");
  CHECK(format_gfp(__GFP_WRITE | __GFP_ACCOUNT) == "__GFP_ACCOUNT|__GFP_WRITE");
}

TEST_CASE("format_gfp prints no bits as 0 and unnamed bits in hex", "[gfp]") {
  CHECK(format_gfp(0) == "0");
  // __GFP_NOLOCKDEP has no entry in the kernel's table either.
  CHECK(format_gfp(__GFP_NOLOCKDEP) == "0x800000");
  CHECK(format_gfp(GFP_NOWAIT | __GFP_NOLOCKDEP) == "GFP_NOWAIT|0x800000");
  CHECK(format_gfp(GFP_KERNEL | 0x3000000) == "GFP_KERNEL|0x3000000");
}

TEST_CASE("gfpflags_allow_blocking looks at __GFP_DIRECT_RECLAIM only", "[gfp]") {
  CHECK(gfpflags_allow_blocking(GFP_KERNEL));
  CHECK(gfpflags_allow_blocking(GFP_NOFS));
  CHECK(gfpflags_allow_blocking(GFP_NOIO));
  CHECK(gfpflags_allow_blocking(__GFP_DIRECT_RECLAIM));
  CHECK_FALSE(gfpflags_allow_blocking(GFP_ATOMIC));
  CHECK_FALSE(gfpflags_allow_blocking(GFP_NOWAIT));
  CHECK_FALSE(gfpflags_allow_blocking(__GFP_IO | __GFP_FS));
  CHECK_FALSE(gfpflags_allow_blocking(0));
}

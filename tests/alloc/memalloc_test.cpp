// Scoped allocation contexts: current_gfp_context under every scope combination, nesting,
// RAII scopes, and the reports for out-of-order or bogus restores.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <type_traits>

#include "lockdep/mm/memalloc.hpp"
#include "lockdep/report.hpp"
#include "lockdep/testing.hpp"

using namespace lockdep::mm;
using lockdep::report_kind;
using lockdep::testing::report_capture;

namespace {

constexpr gfp_t percpu_worker = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;

enum class scopes { none, nofs, noio, nofs_and_noio, noreclaim };

// Runs `body` inside the given scopes, opened in the order listed.
template <class Body>
void inside(scopes which, Body body) {
  switch (which) {
    case scopes::none:
      body();
      break;
    case scopes::nofs: {
      memalloc_nofs_scope nofs;
      body();
      break;
    }
    case scopes::noio: {
      memalloc_noio_scope noio;
      body();
      break;
    }
    case scopes::nofs_and_noio: {
      memalloc_nofs_scope nofs;
      memalloc_noio_scope noio;
      body();
      break;
    }
    case scopes::noreclaim: {
      memalloc_noreclaim_scope noreclaim;
      body();
      break;
    }
  }
}

struct expectation {
  gfp_t given;
  gfp_t none, nofs, noio;  // expected current_gfp_context in each context
};

// Worked out by hand from include/linux/sched/mm.h (5.7).
constexpr expectation table[] = {
    {GFP_KERNEL, GFP_KERNEL, GFP_NOFS, GFP_NOIO},
    {GFP_NOFS, GFP_NOFS, GFP_NOFS, GFP_NOIO},
    {GFP_NOIO, GFP_NOIO, GFP_NOIO, GFP_NOIO},
    {GFP_ATOMIC, GFP_ATOMIC, GFP_ATOMIC, GFP_ATOMIC},
    {GFP_NOWAIT, GFP_NOWAIT, GFP_NOWAIT, GFP_NOWAIT},
    {GFP_USER, 0x100CC0, 0x100C40, 0x100C00},
    {percpu_worker, 0x12CC0, 0x12C40, 0x12C00},
    {GFP_KERNEL | __GFP_NOLOCKDEP, 0x800CC0, 0x800C40, 0x800C00},
    {0, 0, 0, 0},
};

}  // namespace

TEST_CASE("current_gfp_context under every scope combination", "[memalloc]") {
  REQUIRE(current_task_flags() == 0);
  for (const expectation& row : table) {
    INFO("gfp " << format_gfp(row.given));
    inside(scopes::none, [&] { CHECK(current_gfp_context(row.given) == row.none); });
    inside(scopes::nofs, [&] { CHECK(current_gfp_context(row.given) == row.nofs); });
    inside(scopes::noio, [&] { CHECK(current_gfp_context(row.given) == row.noio); });
    // NOIO wins: it is the weaker context.
    inside(scopes::nofs_and_noio, [&] { CHECK(current_gfp_context(row.given) == row.noio); });
    // PF_MEMALLOC stops reclaim recursion elsewhere; it does not change the mask.
    inside(scopes::noreclaim, [&] { CHECK(current_gfp_context(row.given) == row.none); });
  }
  CHECK(current_task_flags() == 0);
}

TEST_CASE("a NOFS scope never takes away the right to sleep", "[memalloc]") {
  memalloc_nofs_scope nofs;
  CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOFS);
  CHECK(gfpflags_allow_blocking(current_gfp_context(GFP_KERNEL)));
  memalloc_noio_scope noio;
  CHECK(gfpflags_allow_blocking(current_gfp_context(GFP_KERNEL)));
}

TEST_CASE("scopes set their flag and nested saves restore in reverse order", "[memalloc]") {
  report_capture capture;
  REQUIRE(current_task_flags() == 0);
  const unsigned outer = memalloc_nofs_save();
  CHECK(current_task_flags() == PF_MEMALLOC_NOFS);
  const unsigned inner = memalloc_nofs_save();
  const unsigned noio = memalloc_noio_save();
  CHECK(current_task_flags() == (PF_MEMALLOC_NOFS | PF_MEMALLOC_NOIO));
  CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOIO);
  memalloc_noio_restore(noio);
  CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOFS);
  memalloc_nofs_restore(inner);
  CHECK(current_task_flags() == PF_MEMALLOC_NOFS);  // the outer scope is still open
  memalloc_nofs_restore(outer);
  CHECK(current_task_flags() == 0);
  CHECK(capture.empty());
}

TEST_CASE("a save inside a flag set directly restores it set", "[memalloc]") {
  report_capture capture;
  set_current_task_flags(PF_MEMALLOC | PF_KSWAPD);
  const unsigned token = memalloc_noreclaim_save();
  memalloc_noreclaim_restore(token);
  CHECK(current_task_flags() == (PF_MEMALLOC | PF_KSWAPD));
  set_current_task_flags(0);
  CHECK(capture.empty());
}

TEST_CASE("RAII scopes", "[memalloc]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<memalloc_nofs_scope>);
  STATIC_REQUIRE_FALSE(std::is_move_constructible_v<memalloc_noio_scope>);
  STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<memalloc_noreclaim_scope>);
  report_capture capture;
  {
    memalloc_nofs_scope nofs;
    CHECK(current_task_flags() == PF_MEMALLOC_NOFS);
    {
      memalloc_noreclaim_scope noreclaim;
      CHECK(current_task_flags() == (PF_MEMALLOC_NOFS | PF_MEMALLOC));
    }
    CHECK(current_task_flags() == PF_MEMALLOC_NOFS);
  }
  CHECK(current_task_flags() == 0);
  CHECK(capture.empty());
}

TEST_CASE("scopes belong to the thread that opened them", "[memalloc]") {
  memalloc_nofs_scope nofs;
  gfp_t elsewhere = 0;
  std::thread other([&] { elsewhere = current_gfp_context(GFP_KERNEL); });
  other.join();
  CHECK(elsewhere == GFP_KERNEL);
  CHECK(current_gfp_context(GFP_KERNEL) == GFP_NOFS);
}

TEST_CASE("restoring out of order is reported once and leaves sensible flags", "[memalloc]") {
  report_capture capture;
  const unsigned nofs = memalloc_nofs_save();
  const unsigned noio = memalloc_noio_save();
  memalloc_nofs_restore(nofs);  // the noio scope opened after it is still open
  REQUIRE(capture.count() == 1);
  const lockdep::report warned = capture.only();
  CHECK(warned.kind == report_kind::warning);
  CHECK(warned.assertion.find("memalloc_nofs_restore() out of order") != std::string::npos);
  CHECK(warned.assertion.find("innermost open scope is memalloc_noio_save()") != std::string::npos);
  // The nofs scope is closed, the noio one still open.
  CHECK(current_task_flags() == PF_MEMALLOC_NOIO);
  memalloc_noio_restore(noio);  // now innermost: in order, silent
  CHECK(current_task_flags() == 0);
  CHECK(capture.count() == 1);
}

TEST_CASE("an out-of-order restore of the same kind keeps the flag until all close", "[memalloc]") {
  report_capture capture;
  const unsigned outer = memalloc_nofs_save();
  const unsigned inner = memalloc_nofs_save();
  memalloc_nofs_restore(outer);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().assertion.find("memalloc_nofs_restore() out of order") != std::string::npos);
  // The kernel would have cleared NOFS here while `inner` is still open.
  CHECK(current_task_flags() == PF_MEMALLOC_NOFS);
  memalloc_nofs_restore(inner);
  // ...and would have left it set here, after every scope closed.
  CHECK(current_task_flags() == 0);
  CHECK(capture.count() == 1);
}

TEST_CASE("restoring twice or with a made-up value is reported and changes nothing", "[memalloc]") {
  report_capture capture;
  const unsigned token = memalloc_noio_save();
  memalloc_noio_restore(token);
  memalloc_noio_restore(token);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::warning);
  CHECK(capture.only().assertion.find("memalloc_noio_restore()") != std::string::npos);
  CHECK(current_task_flags() == 0);

  const unsigned open = memalloc_nofs_save();
  memalloc_nofs_restore(0);  // the kernel idiom's value, not a token
  CHECK(capture.count() == 2);
  CHECK(current_task_flags() == PF_MEMALLOC_NOFS);
  memalloc_nofs_restore(open);
  CHECK(current_task_flags() == 0);
  CHECK(capture.count() == 2);
}

TEST_CASE("a token of one kind restored as another is reported", "[memalloc]") {
  report_capture capture;
  const unsigned nofs = memalloc_nofs_save();
  memalloc_noio_restore(nofs);
  CHECK(capture.count() == 1);
  CHECK(current_task_flags() == PF_MEMALLOC_NOFS);
  memalloc_nofs_restore(nofs);
  CHECK(current_task_flags() == 0);
  CHECK(capture.count() == 1);
}

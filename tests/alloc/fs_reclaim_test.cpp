// The fs_reclaim pseudo-lock: which allocations take it, and the dependencies they record.
//
// A recorded "L --> fs_reclaim" cannot be observed directly, so each test proves it the way
// lockdep would meet it: by then taking L under fs_reclaim, which must (or must not) close a
// cycle.
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/mm/fs_reclaim.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/slab.hpp"
#include "lockdep/testing.hpp"

using namespace lockdep::mm;
using lockdep::held_state;
using lockdep::report_kind;
using lockdep::testing::report_capture;

namespace {

// What kswapd does to L: takes it while holding fs_reclaim.
void take_under_fs_reclaim(lockdep::mutex& lock) {
  __fs_reclaim_acquire();
  lock.lock();
  lock.unlock();
  __fs_reclaim_release();
}

// No Catch assertion inside: it also runs on other threads.
bool kmalloc_holding(lockdep::mutex& lock, gfp_t gfp) {
  std::lock_guard guard(lock);
  void* block = kmalloc(64, gfp);
  kfree(block);
  return block != nullptr;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

TEST_CASE("need_fs_reclaim truth table", "[fs_reclaim]") {
  REQUIRE(current_task_flags() == 0);
  CHECK(need_fs_reclaim(GFP_KERNEL));
  CHECK(need_fs_reclaim(GFP_USER));
  CHECK(need_fs_reclaim(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN));
  CHECK(need_fs_reclaim(__GFP_DIRECT_RECLAIM | __GFP_FS));
  CHECK_FALSE(need_fs_reclaim(GFP_NOFS));
  CHECK_FALSE(need_fs_reclaim(GFP_NOIO));
  CHECK_FALSE(need_fs_reclaim(GFP_ATOMIC));
  CHECK_FALSE(need_fs_reclaim(GFP_NOWAIT));
  CHECK_FALSE(need_fs_reclaim(__GFP_FS | __GFP_KSWAPD_RECLAIM));
  CHECK_FALSE(need_fs_reclaim(GFP_KERNEL | __GFP_NOLOCKDEP));
  {
    memalloc_nofs_scope nofs;
    CHECK_FALSE(need_fs_reclaim(GFP_KERNEL));
  }
  {
    memalloc_noio_scope noio;
    CHECK_FALSE(need_fs_reclaim(GFP_KERNEL));
  }
  {
    memalloc_noreclaim_scope noreclaim;
    CHECK_FALSE(need_fs_reclaim(GFP_KERNEL));
  }
  CHECK(need_fs_reclaim(GFP_KERNEL));
}

TEST_CASE("fs_reclaim_acquire holds fs_reclaim only when reclaim could enter filesystems",
          "[fs_reclaim]") {
  report_capture capture;
  CHECK(std::string(fs_reclaim_map().name()) == "fs_reclaim");
  fs_reclaim_acquire(GFP_KERNEL);
  CHECK(lockdep::lock_held_state(fs_reclaim_map()) == held_state::held);
  fs_reclaim_release(GFP_KERNEL);
  CHECK(lockdep::lock_held_state(fs_reclaim_map()) == held_state::not_held);
  fs_reclaim_acquire(GFP_NOFS);
  CHECK(lockdep::lock_held_state(fs_reclaim_map()) == held_state::not_held);
  fs_reclaim_release(GFP_NOFS);
  might_alloc(GFP_KERNEL);
  CHECK(lockdep::lock_held_state(fs_reclaim_map()) == held_state::not_held);
  CHECK(capture.empty());
}

TEST_CASE("a lock held across kmalloc(GFP_KERNEL) comes before fs_reclaim", "[fs_reclaim]") {
  report_capture capture;
  lockdep::mutex lock{"test_lock"};
  REQUIRE(kmalloc_holding(lock, GFP_KERNEL));
  CHECK(capture.empty());  // recording the dependency is silent

  take_under_fs_reclaim(lock);
  REQUIRE(capture.count() == 1);
  const lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::circular_dependency);
  CHECK(found.acquiring.class_name == "test_lock");
  CHECK(found.holding.class_name == "fs_reclaim");
  const std::vector<std::string> cycle = found.cycle();
  CHECK(contains(cycle, "test_lock"));
  CHECK(contains(cycle, "fs_reclaim"));
  // The "-> #1 (fs_reclaim)" step shows where the dependency was recorded, as the kernel's:
  // fs_reclaim_acquire, then __kmalloc.
  REQUIRE(found.chain.size() == 2);
  CHECK(found.chain[0].class_name == "fs_reclaim");
  REQUIRE(found.chain[0].trace.size() >= 2);
  CHECK(found.chain[0].trace[0].function == "fs_reclaim_acquire");
  CHECK(found.chain[0].trace[1].function == "__kmalloc");
}

TEST_CASE("allocations that cannot enter FS reclaim record nothing", "[fs_reclaim]") {
  struct no_fs_case {
    const char* what;
    gfp_t gfp;
    unsigned scope_flag;  // 0, or the PF_ flag whose scope wraps the allocation
  };
  const no_fs_case cases[] = {
      {"GFP_NOFS", GFP_NOFS, 0},
      {"GFP_NOIO", GFP_NOIO, 0},
      {"GFP_ATOMIC", GFP_ATOMIC, 0},
      {"GFP_NOWAIT", GFP_NOWAIT, 0},
      {"GFP_KERNEL|__GFP_NOLOCKDEP", GFP_KERNEL | __GFP_NOLOCKDEP, 0},
      {"GFP_KERNEL in memalloc_nofs_scope", GFP_KERNEL, PF_MEMALLOC_NOFS},
      {"GFP_KERNEL in memalloc_noio_scope", GFP_KERNEL, PF_MEMALLOC_NOIO},
      {"GFP_KERNEL in memalloc_noreclaim_scope (PF_MEMALLOC)", GFP_KERNEL, PF_MEMALLOC},
  };
  for (const no_fs_case& c : cases) {
    INFO(c.what);
    report_capture capture;
    lockdep::mutex lock{"test_lock"};
    if (c.scope_flag == PF_MEMALLOC_NOFS) {
      memalloc_nofs_scope scope;
      CHECK(kmalloc_holding(lock, c.gfp));
    } else if (c.scope_flag == PF_MEMALLOC_NOIO) {
      memalloc_noio_scope scope;
      CHECK(kmalloc_holding(lock, c.gfp));
    } else if (c.scope_flag == PF_MEMALLOC) {
      memalloc_noreclaim_scope scope;
      CHECK(kmalloc_holding(lock, c.gfp));
    } else {
      CHECK(kmalloc_holding(lock, c.gfp));
    }
    take_under_fs_reclaim(lock);
    CHECK(capture.empty());
  }
}

TEST_CASE("might_alloc records the same dependency as an allocation", "[fs_reclaim]") {
  SECTION("GFP_KERNEL") {
    report_capture capture;
    lockdep::mutex lock{"test_lock"};
    {
      std::lock_guard guard(lock);
      might_alloc(GFP_KERNEL);
    }
    take_under_fs_reclaim(lock);
    REQUIRE(capture.count() == 1);
    CHECK(capture.only().kind == report_kind::circular_dependency);
    CHECK(contains(capture.only().cycle(), "fs_reclaim"));
  }
  SECTION("GFP_NOFS") {
    report_capture capture;
    lockdep::mutex lock{"test_lock"};
    {
      std::lock_guard guard(lock);
      might_alloc(GFP_NOFS);
    }
    take_under_fs_reclaim(lock);
    CHECK(capture.empty());
  }
}

TEST_CASE("the dependency is per lock class, across threads", "[fs_reclaim]") {
  report_capture capture;
  lockdep::mutex lock{"test_lock"};
  bool allocated = false;
  std::thread allocator([&] { allocated = kmalloc_holding(lock, GFP_KERNEL); });
  allocator.join();
  CHECK(allocated);
  std::thread reclaimer([&] { take_under_fs_reclaim(lock); });
  reclaimer.join();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::circular_dependency);
}

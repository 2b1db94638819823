// Reclaim: shrinker registration and arithmetic, kswapd, direct reclaim, the fs_reclaim cycle of
// the btrfs/percpu report, kfree misuse, and the workqueue that runs deferred work.
#include <catch2/catch.hpp>

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/mm/fs_reclaim.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/reclaim.hpp"
#include "lockdep/mm/shrinker.hpp"
#include "lockdep/mm/slab.hpp"
#include "lockdep/mm/workqueue.hpp"
#include "lockdep/testing.hpp"

using namespace lockdep::mm;
using namespace std::chrono_literals;
using lockdep::held_state;
using lockdep::report_kind;
using lockdep::testing::report_capture;

namespace {

std::string thread_name() {
  char comm[17] = {};
  prctl(PR_GET_NAME, comm, 0, 0, 0);
  return comm;
}

bool has_frame(const lockdep::stack_trace& trace, const std::string& function) {
  return std::any_of(trace.begin(), trace.end(),
                     [&](const lockdep::stack_frame& f) { return f.function == function; });
}

// Memory pressure for one test: a budget, and `used` pretend bytes in use. Undoes both.
// Budgets are relative to what other tests left in use (e.g. populated per-CPU pages).
struct pressure {
  std::size_t baseline = memory_in_use();
  pressure(std::size_t budget, std::size_t used) {
    set_memory_budget(baseline + budget);
    account_alloc(used);
  }
  ~pressure() {
    set_memory_budget(0);
    if (memory_in_use() > baseline) account_free(memory_in_use() - baseline);
  }
};

struct registered {
  shrinker& s;
  explicit registered(shrinker& s) : s(s) { REQUIRE(register_shrinker(&s) == 0); }
  ~registered() { unregister_shrinker(&s); }
};

struct kswapd_running {
  kswapd_running() { start_kswapd(); }
  ~kswapd_running() { stop_kswapd(); }
};

struct workqueue_user {
  ~workqueue_user() { destroy_system_workqueue(); }
};

// A cache of `objects` objects. Each scan "frees" what it was asked to (10 bytes an object,
// while over budget), records the batch sizes and, in `seen`, what the reclaiming context was.
struct test_cache {
  struct context {
    std::thread::id thread;
    std::string name;
    bool fs_reclaim_held = false;
    unsigned flags = 0;
    gfp_t gfp = 0;
    int scans = 0;
  };
  unsigned long objects;
  std::vector<unsigned long> batches;
  context seen;
  bool stop_next = false;
  shrinker s;

  explicit test_cache(unsigned long n, int seeks = DEFAULT_SEEKS) : objects(n) {
    s.seeks = seeks;
    s.count_objects = [this](shrinker&, shrink_control&) { return objects; };
    s.scan_objects = [this](shrinker&, shrink_control& sc) -> unsigned long {
      ++seen.scans;
      seen.thread = std::this_thread::get_id();
      seen.name = thread_name();
      seen.fs_reclaim_held = lockdep::lock_held_state(fs_reclaim_map()) == held_state::held;
      seen.flags = current_task_flags();
      seen.gfp = sc.gfp_mask;
      if (std::exchange(stop_next, false)) return SHRINK_STOP;
      batches.push_back(sc.nr_to_scan);
      if (over_budget()) account_free(sc.nr_to_scan * 10);  // only what a test's pressure added
      return sc.nr_to_scan;
    };
  }
};

unsigned long scan(test_cache& cache, int priority) {
  cache.batches.clear();
  shrink_control sc{GFP_KERNEL, 0, 0, 0};
  return do_shrink_slab(&sc, &cache.s, priority);
}

}  // namespace

TEST_CASE("do_shrink_slab scans and defers as the kernel computes", "[shrinker]") {
  test_cache cache(1000);
  // Priority 0: delta = (1000 >> 0) * 4 / 2 = 2000 = 2 * freeable; 15 batches of 128 = 1920,
  // the last 80 are below a batch and below freeable, so deferred.
  CHECK(scan(cache, 0) == 1920);
  CHECK(cache.batches == std::vector<unsigned long>(15, 128));
  CHECK(cache.s.nr_deferred == 80);
  // Priority 2: 80 deferred + (250 * 4 / 2 = 500) = 580: 4 batches (512), 68 deferred.
  CHECK(scan(cache, 2) == 512);
  CHECK(cache.batches.size() == 4);
  CHECK(cache.s.nr_deferred == 68);
  // Priority 12: delta 0, total 68: nothing scanned, all still deferred.
  CHECK(scan(cache, 12) == 0);
  CHECK(cache.batches.empty());
  CHECK(cache.s.nr_deferred == 68);
}

TEST_CASE("do_shrink_slab limits deferred windup and scans small caches whole", "[shrinker]") {
  test_cache cache(1000);
  cache.stop_next = true;  // SHRINK_STOP: 2000 scanned nothing, all deferred
  CHECK(scan(cache, 0) == 0);
  CHECK(cache.s.nr_deferred == 2000);
  // Priority 4: delta = (62 * 4 / 2) = 124 < 1000 / 4, so total = min(2124, 500) = 500:
  // 3 batches (384), and 2124 - 384 = 1740 deferred.
  CHECK(scan(cache, 4) == 384);
  CHECK(cache.batches.size() == 3);
  CHECK(cache.s.nr_deferred == 1740);

  test_cache small(50);  // delta 100 >= freeable: one short batch of everything
  CHECK(scan(small, 0) == 100);
  CHECK(small.batches == std::vector<unsigned long>{100});
  CHECK(small.s.nr_deferred == 0);

  test_cache cheap(1000, 0);  // seeks 0: delta = freeable / 2 = 500 at any priority
  CHECK(scan(cheap, 12) == 384);
  CHECK(cheap.s.nr_deferred == 116);

  test_cache empty(0);
  CHECK(scan(empty, 0) == 0);
  CHECK(empty.seen.scans == 0);
}

TEST_CASE("shrink_slab runs registered shrinkers, skipping FS ones without __GFP_FS",
          "[shrinker]") {
  test_cache plain(1000), fs(1000);
  fs.s.needs_fs = true;
  {
    registered r1(plain.s), r2(fs.s);
    CHECK(shrink_slab(GFP_KERNEL, 0, 0) == 2 * 1920);
    CHECK(plain.seen.gfp == GFP_KERNEL);
    CHECK(fs.seen.scans == 15);
    CHECK(shrink_slab(GFP_NOFS, 0, 0) > 0);
    CHECK(plain.seen.gfp == GFP_NOFS);
    CHECK(fs.seen.scans == 15);  // skipped
  }
  const int scans = plain.seen.scans;
  CHECK(shrink_slab(GFP_KERNEL, 0, 0) == 0);  // unregistered
  CHECK(plain.seen.scans == scans);
  shrinker incomplete;
  CHECK(register_shrinker(&incomplete) == -22);
}

TEST_CASE("shrink_slab gives up while shrinker_rwsem is write-held", "[shrinker]") {
  test_cache cache(1000);
  registered r(cache.s);
  std::promise<void> locked, done;
  std::thread writer([&] {
    std::unique_lock write(shrinker_rwsem());
    locked.set_value();
    done.get_future().wait();
  });
  locked.get_future().wait();
  CHECK(shrink_slab(GFP_KERNEL, 0, 0) == 0);
  CHECK(cache.seen.scans == 0);
  done.set_value();
  writer.join();
}

TEST_CASE("kswapd0 runs balance_pgdat on wake-up, holding fs_reclaim", "[reclaim]") {
  report_capture capture;
  test_cache cache(1000);
  registered r(cache.s);
  kswapd_running kswapd;
  pressure p(1000, 5000);
  const std::size_t runs = kswapd_runs();
  wakeup_kswapd();
  REQUIRE(wait_for_kswapd_idle(10s));
  CHECK(kswapd_runs() == runs + 1);
  CHECK_FALSE(over_budget());
  REQUIRE(cache.seen.scans > 0);
  CHECK(cache.seen.name == "kswapd0");
  CHECK(cache.seen.thread != std::this_thread::get_id());
  CHECK(cache.seen.fs_reclaim_held);
  CHECK(cache.seen.flags == (PF_MEMALLOC | PF_KSWAPD | PF_KTHREAD));
  CHECK(cache.seen.gfp == GFP_KERNEL);
  CHECK(capture.empty());
}

TEST_CASE("run_kswapd_pass_here runs a pass on the caller with kswapd's flags", "[reclaim]") {
  report_capture capture;
  test_cache cache(1000);
  registered r(cache.s);
  pressure p(1000, 5000);
  CHECK(run_kswapd_pass_here() > 0);
  CHECK(cache.seen.thread == std::this_thread::get_id());
  CHECK(cache.seen.fs_reclaim_held);
  CHECK(cache.seen.flags == (PF_MEMALLOC | PF_KSWAPD));
  CHECK(current_task_flags() == 0);
  CHECK(lockdep::lock_held_state(fs_reclaim_map()) == held_state::not_held);
}

TEST_CASE("over budget, kmalloc reclaims directly in the caller under fs_reclaim", "[reclaim]") {
  report_capture capture;
  test_cache cache(1000);
  registered r(cache.s);
  pressure p(1000, 5000);
  void* block = kmalloc(64, GFP_KERNEL);
  REQUIRE(block != nullptr);
  kfree(block);
  REQUIRE(cache.seen.scans > 0);
  CHECK(cache.seen.thread == std::this_thread::get_id());
  CHECK(cache.seen.fs_reclaim_held);
  CHECK(cache.seen.flags == PF_MEMALLOC);
  CHECK(cache.seen.gfp == GFP_KERNEL);
  CHECK_FALSE(over_budget());
  CHECK(current_task_flags() == 0);
  CHECK(lockdep::lock_held_state(fs_reclaim_map()) == held_state::not_held);
  CHECK(capture.empty());
}

TEST_CASE("direct reclaim follows the caller's gfp mask and scopes", "[reclaim]") {
  test_cache cache(1000), fs(1000);
  fs.s.needs_fs = true;
  registered r1(cache.s), r2(fs.s);
  SECTION("NOFS scope: no fs_reclaim, FS shrinkers skipped") {
    pressure p(1000, 5000);
    memalloc_nofs_scope nofs;
    kfree(kmalloc(64, GFP_KERNEL));
    REQUIRE(cache.seen.scans > 0);
    CHECK(cache.seen.gfp == GFP_NOFS);
    CHECK_FALSE(cache.seen.fs_reclaim_held);
    CHECK(fs.seen.scans == 0);
  }
  SECTION("GFP_ATOMIC and GFP_NOWAIT never reclaim directly") {
    pressure p(1000, 5000);
    kfree(kmalloc(64, GFP_ATOMIC));
    kfree(kmalloc(64, GFP_NOWAIT));
    CHECK(cache.seen.scans == 0);
    CHECK(over_budget());
  }
  SECTION("under budget nothing is reclaimed") {
    kfree(kmalloc(64, GFP_KERNEL));
    CHECK(cache.seen.scans == 0);
  }
}

TEST_CASE("THE KEY SCENARIO: a lock held across kmalloc(GFP_KERNEL), taken by a shrinker",
          "[reclaim][key]") {
  const bool nofs = GENERATE(false, true);
  INFO((nofs ? "inside memalloc_nofs_scope" : "no scope"));
  report_capture capture;
  lockdep::mutex lock{"&delayed_node->mutex"};
  std::atomic<std::thread::id> holder{};
  std::atomic<int> taken_by_kswapd{0};
  shrinker fs_cache;  // the superblock shrinker, evicting inodes
  fs_cache.needs_fs = true;
  fs_cache.count_objects = [](shrinker&, shrink_control&) { return 1000UL; };
  fs_cache.scan_objects = [&](shrinker&, shrink_control& sc) -> unsigned long {
    // In the holder's own direct reclaim, taking the lock would be a real self-deadlock (and a
    // recursive-locking report): back off. The cycle under test is the cross-thread one. (Not
    // asked of lockdep: it stops answering once it has reported.)
    if (holder.load() == std::this_thread::get_id()) return SHRINK_STOP;
    std::lock_guard guard(lock);
    if ((current_task_flags() & PF_KSWAPD) != 0) ++taken_by_kswapd;
    if (over_budget()) account_free(sc.nr_to_scan * 10);
    return sc.nr_to_scan;
  };
  registered r(fs_cache);
  kswapd_running kswapd;
  pressure p(1000, 5000);
  {
    const unsigned token = nofs ? memalloc_nofs_save() : 0;
    std::lock_guard guard(lock);
    holder = std::this_thread::get_id();
    void* block = kmalloc(128, GFP_KERNEL);  // records lock --> fs_reclaim, wakes kswapd
    CHECK(block != nullptr);
    kfree(block);
    holder = std::thread::id{};
    if (nofs) memalloc_nofs_restore(token);
  }
  REQUIRE(wait_for_kswapd_idle(10s));
  CHECK(taken_by_kswapd > 0);  // kswapd did take the lock under fs_reclaim
  if (nofs) {
    CHECK(capture.empty());
    return;
  }
  REQUIRE(capture.wait_for(1, 10s));
  REQUIRE(capture.count() == 1);
  const lockdep::report found = capture.only();
  CHECK(found.kind == report_kind::circular_dependency);
  CHECK(found.thread.comm == "kswapd0");
  CHECK(found.acquiring.class_name == "&delayed_node->mutex");
  CHECK(found.holding.class_name == "fs_reclaim");
  const std::vector<std::string> cycle = found.cycle();
  CHECK(std::find(cycle.begin(), cycle.end(), "fs_reclaim") != cycle.end());
  CHECK(std::find(cycle.begin(), cycle.end(), "&delayed_node->mutex") != cycle.end());
  for (const char* frame : {"do_shrink_slab", "shrink_slab", "shrink_node", "balance_pgdat",
                            "kswapd", "kthread", "ret_from_fork"}) {
    CHECK(has_frame(found.backtrace, frame));
  }
}

TEST_CASE("kfree of a pointer kmalloc did not return, or of a freed one, is reported", "[slab]") {
  report_capture capture;
  void* block = kzalloc(32, GFP_KERNEL);
  REQUIRE(block != nullptr);
  CHECK(ksize(block) == 32);
  CHECK(static_cast<unsigned char*>(block)[31] == 0);
  kfree(block);
  CHECK(capture.empty());
  kfree(block);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::warning);
  CHECK(capture.only().assertion.find("kfree()") != std::string::npos);
  int on_stack = 0;
  kvfree(&on_stack);
  CHECK(capture.count() == 2);
  kfree(nullptr);
  kfree(kmalloc(0, GFP_KERNEL));  // ZERO_SIZE_PTR
  CHECK(capture.count() == 2);
  CHECK(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL) == nullptr);
}

TEST_CASE("kmalloc accounts what it holds", "[slab]") {
  const std::size_t before = memory_in_use();
  void* block = kmalloc(1000, GFP_KERNEL);
  CHECK(memory_in_use() == before + 1000);
  kfree(block);
  CHECK(memory_in_use() == before);
}

TEST_CASE("schedule_work runs the function on a kworker thread", "[workqueue]") {
  workqueue_user wq;
  std::string name;
  unsigned flags = 0;
  work_struct work;
  INIT_WORK(&work, [&](work_struct*) {
    name = thread_name();
    flags = current_task_flags();
  });
  REQUIRE(schedule_work(&work));
  flush_work(&work);  // true if it had to wait: a running worker may have finished already
  CHECK(name == "kworker/u8:3");
  CHECK((flags & PF_KTHREAD) != 0);
  CHECK_FALSE(flush_work(&work));  // idle: nothing to wait for
}

TEST_CASE("a pending work is not queued twice, and may requeue itself", "[workqueue]") {
  workqueue_user wq;
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  work_struct blocker, counted;
  std::atomic<int> runs{0};
  std::atomic<bool> requeued{false};
  INIT_WORK(&blocker, [opened](work_struct*) { opened.wait(); });
  INIT_WORK(&counted, [&](work_struct* self) {
    // Already off the pending list while it runs, so it can be queued again.
    if (runs.fetch_add(1) == 0) requeued = schedule_work(self);
  });
  REQUIRE(schedule_work(&blocker));
  CHECK(schedule_work(&counted));
  CHECK_FALSE(schedule_work(&counted));
  CHECK(work_pending(&counted));
  gate.set_value();
  flush_scheduled_work();
  CHECK(requeued);
  CHECK(runs == 2);
  CHECK_FALSE(work_pending(&counted));
}

TEST_CASE("flush_work waits for the work to finish", "[workqueue]") {
  workqueue_user wq;
  std::atomic<bool> finished{false};
  work_struct slow;
  INIT_WORK(&slow, [&](work_struct*) {
    std::this_thread::sleep_for(50ms);
    finished = true;
  });
  REQUIRE(schedule_work(&slow));
  CHECK(flush_work(&slow));
  CHECK(finished);
}

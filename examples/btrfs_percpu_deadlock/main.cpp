// btrfs_percpu_deadlock: reproduces the lockdep report of the 2020 btrfs/percpu deadlock
// (fixed by commit 28307d938fb2, "percpu: make pcpu_alloc() aware of current gfp context").
//
// Each dependency of the five-lock cycle is recorded by the path that recorded it in the
// kernel, one after the other and without ever blocking; kswapd0 then closes the cycle:
//   #2 umount:  groups_sem --> commit_root_sem         (caching a block group at commit)
//   #1 sync:    delayed_node->mutex --> groups_sem     (running delayed items at commit)
//   #3 ioctl:   commit_root_sem --> pcpu_alloc_mutex   (5.6: GFP_KERNEL in a NOFS section)
//   #4 worker:  pcpu_alloc_mutex --> fs_reclaim        (creating a chunk with GFP_KERNEL)
//   #0 kswapd0: fs_reclaim --> delayed_node->mutex     (evicting an inode)
//
// Usage: btrfs_percpu_deadlock [--fixed]
//   default   the 5.6 pcpu_alloc(): lockdep reports the cycle; exit status 1
//   --fixed   the 5.7 pcpu_alloc(): the ioctl's allocation is atomic, no cycle; exit status 0
#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "btrfs.hpp"
#include "lockdep/mm/percpu.hpp"
#include "lockdep/mm/reclaim.hpp"
#include "lockdep/validator.hpp"

using namespace lockdep::mm;

namespace {

// Runs `work` to completion on a thread with the given name (the report's comm).
void run_as(const char* comm, const std::function<void()>& work) {
  std::thread([&] {
    pthread_setname_np(pthread_self(), comm);
    work();
  }).join();
}

// Some atomic user drains the populated per-CPU pages; the failure schedules the balance work,
// which finds no chunk to populate and creates one: pcpu_create_chunk() under the mutex.
[[gnu::noinline]] void exhaust_atomic_percpu_pages(std::vector<void*>& taken) {
  void* area;
  while ((area = __alloc_percpu_gfp(4096, 4096, GFP_NOWAIT | __GFP_NOWARN)) != nullptr) {
    taken.push_back(area);
  }
  flush_pcpu_balance_work();
}

// Memory runs short: kswapd0 reclaims, and the super block shrinker evicts btrfs inodes.
void apply_memory_pressure() {
  set_memory_budget(1);
  account_alloc(1 << 20);
  wakeup_kswapd();
  wait_for_kswapd_idle(std::chrono::seconds(10));
  account_free(1 << 20);
  set_memory_budget(0);
}

}  // namespace

int main(int argc, char** argv) {
  bool fixed = argc > 1 && std::strcmp(argv[1], "--fixed") == 0;
  set_pcpu_alloc_behaviour(fixed ? pcpu_alloc_behaviour::v5_7 : pcpu_alloc_behaviour::v5_6);
  std::printf("btrfs/percpu deadlock reproducer: pcpu_alloc() as in Linux %s\n",
              fixed ? "5.7 (current_gfp_context applied)" : "5.6");
  std::fflush(stdout);
  start_kswapd();

  run_as("umount", [] {
    btrfs_fs_info* scratch = btrfs_mount(0);
    cleanup_mnt(scratch->sb);
  });
  btrfs_fs_info* fs_info = btrfs_mount(32);
  for (auto& node : fs_info->delayed_nodes) node->pending_items = 1;  // inodes were updated
  run_as("sync", [] { ksys_sync(); });
  run_as("btrfs", [fs_info] {
    btrfs_ioctl_logical_ino_args args;
    args.logical = 0x1d40000;
    args.root_objectid = 257;  // a subvolume not read since mount
    ksys_ioctl(fs_info->sb, BTRFS_IOC_LOGICAL_INO, &args);
  });
  std::vector<void*> atomic_areas;
  exhaust_atomic_percpu_pages(atomic_areas);
  apply_memory_pressure();

  stop_kswapd();
  for (void* area : atomic_areas) free_percpu(area);
  bool reported = lockdep::report_count() > 0;
  std::printf("%s\n", reported ? "lockdep reported the circular dependency"
                               : "no lockdep report: no circular dependency");
  return reported ? 1 : 0;
}

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
// Usage: btrfs_percpu_deadlock [--fixed] [--race] [--help]: see usage_text below.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "btrfs.hpp"
#include "lockdep/mm/percpu.hpp"
#include "lockdep/mm/reclaim.hpp"
#include "lockdep/validator.hpp"
#include "syscall.hpp"

using namespace lockdep::mm;

namespace {

constexpr const char* usage_text = R"(usage: btrfs_percpu_deadlock [--fixed] [--race] [--help]

In April 2020 kernel lockdep caught a deadlock between btrfs and the per-CPU allocator before
it ever hung. btrfs set up a percpu_counter with GFP_KERNEL inside memalloc_nofs_save() while
holding commit_root_sem; pcpu_alloc() looked only at GFP_KERNEL and took pcpu_alloc_mutex. The
percpu balance worker holds that mutex while it allocates (fs_reclaim), and reclaim evicts btrfs
inodes, taking a delayed_node->mutex, which a transaction commit holds on its way to
commit_root_sem. Linux 5.7 fixed pcpu_alloc() to apply current_gfp_context(gfp) first.

  (default)  5.6 pcpu_alloc(): the paths run one after the other, never blocking; kswapd0
             closes the cycle and lockdep prints the kernel's report. Exit status 1.
  --fixed    5.7 pcpu_alloc(): the same program, no report. Exit status 0.
  --race     the paths run concurrently with real timing, so the deadlock really happens:
             the report is printed before the threads hang, and a watchdog ends the program
             (exit status 2). With --fixed, everything completes (exit status 0).
)";

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

// --race: the three-way deadlock of the research's schedule, with real threads. The ioctl
// holds commit_root_sem (read) and then wants pcpu_alloc_mutex; sync holds the inode's
// delayed_node->mutex and then wants commit_root_sem (write); the balance worker holds
// pcpu_alloc_mutex, runs out of memory, and direct reclaim evicts that inode.
int run_race(btrfs_fs_info* fs_info) {
  btrfs_set_race_window_ms(500);
  fs_info->metadata_group->cached = false;  // sync must cache it: commit_root_sem for write
  set_memory_budget(memory_in_use() + 1);   // every allocation now goes into direct reclaim
  std::atomic<int> finished{0};
  std::thread sync_thread([&] {
    pthread_setname_np(pthread_self(), "sync");
    entry_SYSCALL_64_after_hwframe(__ia32_sys_sync, nullptr);
    ++finished;
  });
  std::thread ioctl_thread([&] {
    pthread_setname_np(pthread_self(), "btrfs");
    btrfs_ioctl_logical_ino_args args;
    args.root_objectid = 257;
    ioctl_call call{fs_info->sb, BTRFS_IOC_LOGICAL_INO, &args};
    entry_SYSCALL_64_after_hwframe(__x64_sys_ioctl, &call);
    ++finished;
  });
  // The worker must hold pcpu_alloc_mutex before the windows close: start it only once sync
  // holds the inode's delayed node and the ioctl holds commit_root_sem.
  while (btrfs_threads_in_race_window() < 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::vector<void*> atomic_areas;
  std::thread atomic_user([&] {
    pthread_setname_np(pthread_self(), "atomic-user");
    void* area;
    while ((area = __alloc_percpu_gfp(4096, 4096, GFP_NOWAIT | __GFP_NOWARN)) != nullptr) {
      atomic_areas.push_back(area);
    }
    flush_pcpu_balance_work();
    ++finished;
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (finished.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (finished.load() < 3) {
    std::printf(
        "watchdog: no progress for 5 s: sync, btrfs and the percpu balance worker are "
        "deadlocked, as lockdep reported above; exiting\n");
    std::fflush(stdout);
    _exit(2);
  }
  sync_thread.join();
  ioctl_thread.join();
  atomic_user.join();
  set_memory_budget(0);
  for (void* area : atomic_areas) free_percpu(area);
  std::printf("all paths completed\n");
  return lockdep::report_count() > 0 ? 1 : 0;
}

int run_in_order(bool fixed) {
  (void)fixed;
  start_kswapd();
  run_as("umount", [] {
    btrfs_fs_info* scratch = btrfs_mount(0);
    entry_SYSCALL_64_after_hwframe(exit_to_usermode_loop, scratch->sb);
  });
  btrfs_fs_info* fs_info = btrfs_mount(32);
  for (auto& node : fs_info->delayed_nodes) node->pending_items = 1;  // inodes were updated
  run_as("sync", [] { entry_SYSCALL_64_after_hwframe(__ia32_sys_sync, nullptr); });
  run_as("btrfs", [fs_info] {
    btrfs_ioctl_logical_ino_args args;
    args.logical = 0x1d40000;
    args.root_objectid = 257;  // a subvolume not read since mount
    ioctl_call call{fs_info->sb, BTRFS_IOC_LOGICAL_INO, &args};
    entry_SYSCALL_64_after_hwframe(__x64_sys_ioctl, &call);
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

}  // namespace

int main(int argc, char** argv) {
  bool fixed = false, race = false;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--fixed") {
      fixed = true;
    } else if (argument == "--race") {
      race = true;
    } else {
      std::fputs(usage_text, argument == "--help" || argument == "-h" ? stdout : stderr);
      return argument == "--help" || argument == "-h" ? 0 : 64;
    }
  }
  set_pcpu_alloc_behaviour(fixed ? pcpu_alloc_behaviour::v5_7 : pcpu_alloc_behaviour::v5_6);
  std::printf("btrfs/percpu deadlock reproducer: pcpu_alloc() as in Linux %s%s\n",
              fixed ? "5.7 (current_gfp_context applied)" : "5.6",
              race ? ", paths racing for real" : "");
  std::fflush(stdout);
  if (race) {
    btrfs_fs_info* fs_info = btrfs_mount(1);
    fs_info->delayed_nodes[0]->pending_items = 1;
    return run_race(fs_info);
  }
  return run_in_order(fixed);
}

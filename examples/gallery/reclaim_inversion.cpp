// Reclaim inversion: a lock held across a GFP_KERNEL allocation and taken by a shrinker.
//
// The bug class behind the btrfs/percpu deadlock. An extent-status cache (after ext4's) adds
// entries with sbi->s_es_lock held, allocating them with GFP_KERNEL; its shrinker takes the same
// lock to evict entries. A GFP_KERNEL allocation may enter reclaim, and reclaim runs shrinkers:
// had memory been short during an insert, the inserting task would have run the shrinker and
// blocked on the s_es_lock it holds itself. Lockdep sees this although memory is plentiful then:
// each insert records "s_es_lock --> fs_reclaim"; later kswapd0 runs the shrinker holding
// fs_reclaim, and "fs_reclaim --> s_es_lock" closes the cycle.
//
// --nofs: the inserts run inside a memalloc_nofs_scope (memalloc_nofs_save()), so their
// allocations are GFP_NOFS (reclaim will not call into filesystems) and record nothing against
// fs_reclaim: no report.
//
// Exit status: 1 when a report was printed, else 0.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/reclaim.hpp"
#include "lockdep/mm/shrinker.hpp"
#include "lockdep/mm/slab.hpp"

namespace mm = lockdep::mm;

constexpr unsigned long nr_entries = 128;

struct ext4_sb_info {
  lockdep::mutex s_es_lock{LOCKDEP_CLASS("&sbi->s_es_lock")};
  std::vector<void*> s_es_list;              // cached extents, guarded by s_es_lock
  std::atomic<unsigned long> s_es_count{0};  // read by count_objects without the lock
};

static void es_cache_insert(ext4_sb_info& sbi) {
  sbi.s_es_lock.lock();
  sbi.s_es_list.push_back(mm::kmalloc(256, mm::GFP_KERNEL));  // may reclaim: under s_es_lock
  ++sbi.s_es_count;
  sbi.s_es_lock.unlock();
}

static void fill_cache(ext4_sb_info& sbi) {
  for (unsigned long i = 0; i < nr_entries; ++i) es_cache_insert(sbi);
}

static unsigned long es_scan(ext4_sb_info& sbi, const mm::shrink_control& sc) {
  unsigned long freed = 0;
  sbi.s_es_lock.lock();  // reclaim holds fs_reclaim here
  for (; freed < sc.nr_to_scan && !sbi.s_es_list.empty(); ++freed) {
    mm::kfree(sbi.s_es_list.back());
    sbi.s_es_list.pop_back();
    --sbi.s_es_count;
  }
  sbi.s_es_lock.unlock();
  return freed;
}

int main(int argc, char** argv) {
  const bool nofs = argc > 1 && std::string_view(argv[1]) == "--nofs";
  pthread_setname_np(pthread_self(), "dd");
  ext4_sb_info sbi;
  mm::shrinker es_shrinker{
      .count_objects = [&](mm::shrinker&, mm::shrink_control&) { return sbi.s_es_count.load(); },
      .scan_objects = [&](mm::shrinker&, mm::shrink_control& sc) { return es_scan(sbi, sc); },
      .needs_fs = true,
  };
  mm::register_shrinker(&es_shrinker);
  mm::start_kswapd();

  // Memory is plentiful (no budget yet): the allocations only record what they could do.
  if (nofs) {
    mm::memalloc_nofs_scope scope;  // memalloc_nofs_save() ... memalloc_nofs_restore()
    fill_cache(sbi);
  } else {
    fill_cache(sbi);
  }

  // Later memory runs short, and kswapd0 runs the shrinkers with fs_reclaim held.
  mm::set_memory_budget(mm::memory_in_use() / 2);
  mm::wakeup_kswapd();
  mm::wait_for_kswapd_idle(std::chrono::seconds(10));
  mm::stop_kswapd();
  mm::unregister_shrinker(&es_shrinker);
  std::printf("kswapd0 shrank the extent cache from %lu to %lu entries\n", nr_entries,
              sbi.s_es_count.load());
  for (void* entry : sbi.s_es_list) mm::kfree(entry);
  return lockdep::report_count() == 0 ? 0 : 1;
}

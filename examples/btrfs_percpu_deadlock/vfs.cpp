#include "vfs.hpp"

#include <algorithm>

#include "lockdep/mm/gfp.hpp"
#include "lockdep/mm/locking.hpp"

using lockdep::mm::shrink_control;
using lockdep::mm::shrinker;

namespace {

std::mutex super_blocks_lock;  // sb_lock: a spinlock the chain does not involve
std::vector<super_block*> super_blocks;

// The kernel's container_of(shrink, struct super_block, s_shrink).
super_block* super_of(shrinker* shrink) {
  std::lock_guard guard(super_blocks_lock);
  for (super_block* sb : super_blocks) {
    if (&sb->s_shrink == shrink) return sb;
  }
  return nullptr;
}

}  // namespace

extern "C" {

[[gnu::noinline]] super_block* sget(file_system_type* type, const super_operations* operations,
                                    void* fs_info) {
  auto* sb = new super_block(type);
  down_write(&sb->s_umount);
  sb->s_op = operations;
  sb->s_fs_info = fs_info;
  sb->s_shrink.count_objects = [](shrinker& shrink, shrink_control& sc) {
    return super_cache_count(&shrink, &sc);
  };
  sb->s_shrink.scan_objects = [](shrinker& shrink, shrink_control& sc) {
    return super_cache_scan(&shrink, &sc);
  };
  sb->s_shrink.needs_fs = true;
  lockdep::mm::register_shrinker(&sb->s_shrink);
  {
    std::lock_guard guard(super_blocks_lock);
    super_blocks.push_back(sb);
  }
  up_write(&sb->s_umount);
  return sb;
}

[[gnu::noinline]] void inode_add_lru(inode* cached) {
  std::lock_guard guard(cached->i_sb->s_inode_lru_lock);
  cached->i_sb->s_inode_lru.push_back(cached);
}

[[gnu::noinline]] void iterate_supers(void (*each)(super_block*, void*), void* argument) {
  std::vector<super_block*> all;
  {
    std::lock_guard guard(super_blocks_lock);
    all = super_blocks;
  }
  for (super_block* sb : all) each(sb, argument);
}

[[gnu::noinline]] void ksys_sync() {
  iterate_supers([](super_block* sb, void*) { sb->s_op->sync_fs(sb, 1); }, nullptr);
}

[[gnu::noinline]] int sync_filesystem(super_block* sb) {
  int result = sb->s_op->sync_fs(sb, 1);
  asm volatile("" ::: "memory");  // keep this frame: the trace shows sync_filesystem
  return result;
}

[[gnu::noinline]] void generic_shutdown_super(super_block* sb) {
  sync_filesystem(sb);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void kill_anon_super(super_block* sb) {
  generic_shutdown_super(sb);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void deactivate_locked_super(super_block* sb) {
  sb->s_type->kill_sb(sb);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void cleanup_mnt(super_block* sb) {
  deactivate_locked_super(sb);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] long ksys_ioctl(super_block* sb, unsigned int command, void* argument) {
  long result = sb->s_op->ioctl(sb, command, argument);
  asm volatile("" ::: "memory");
  return result;
}

[[gnu::noinline]] unsigned long super_cache_count(shrinker* shrink, shrink_control*) {
  super_block* sb = super_of(shrink);
  if (sb == nullptr) return 0;
  std::lock_guard guard(sb->s_inode_lru_lock);
  return sb->s_inode_lru.size();
}

[[gnu::noinline]] int trylock_super(super_block* sb) {
  return down_read_trylock(&sb->s_umount);
}

[[gnu::noinline]] unsigned long super_cache_scan(shrinker* shrink, shrink_control* sc) {
  // Without __GFP_FS, reclaim must not call into the file system (a NOFS caller may hold its
  // locks): this is how real reclaim keeps NOFS allocations away from btrfs.
  if ((sc->gfp_mask & lockdep::mm::__GFP_FS) == 0) return lockdep::mm::SHRINK_STOP;
  super_block* sb = super_of(shrink);
  if (sb == nullptr || !trylock_super(sb)) return lockdep::mm::SHRINK_STOP;
  long freed = prune_icache_sb(sb, sc);
  up_read(&sb->s_umount);
  return static_cast<unsigned long>(freed);
}

[[gnu::noinline]] long prune_icache_sb(super_block* sb, shrink_control* sc) {
  std::vector<inode*> victims;
  {
    std::lock_guard guard(sb->s_inode_lru_lock);
    std::size_t count = std::min<std::size_t>(sc->nr_to_scan, sb->s_inode_lru.size());
    victims.assign(sb->s_inode_lru.end() - static_cast<long>(count), sb->s_inode_lru.end());
    sb->s_inode_lru.resize(sb->s_inode_lru.size() - count);
  }
  dispose_list(&victims);
  return static_cast<long>(victims.size());
}

[[gnu::noinline]] void dispose_list(std::vector<inode*>* victims) {
  for (inode* victim : *victims) evict(victim);
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void evict(inode* victim) {
  victim->i_sb->s_op->evict_inode(victim);
  asm volatile("" ::: "memory");
}

}  // extern "C"

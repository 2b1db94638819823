// Mount, the super block operations, and the drew lock (fs/btrfs/super.c, disk-io.c,
// locking.c).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include "btrfs.hpp"
#include "btrfs_internal.hpp"
#include "lockdep/mm/locking.hpp"
#include "lockdep/mm/memalloc.hpp"

using namespace lockdep::mm;

extern "C" {

[[gnu::noinline]] int btrfs_drew_lock_init(btrfs_drew_lock* lock) {
  // GFP_KERNEL although the caller may be in a NOFS section: that is what memalloc scopes are
  // for, and what pcpu_alloc() failed to honour before 5.7.
  int ret = percpu_counter_init(&lock->writers, 0, GFP_KERNEL);
  if (ret != 0) return ret;
  lock->readers.store(0);
  return 0;
}

[[gnu::noinline]] int btrfs_init_fs_root(btrfs_root* root) {
  // Reading a root may happen with btrfs locks or a transaction held: no fs reclaim inside.
  unsigned int nofs_flag = memalloc_nofs_save();
  int ret = btrfs_drew_lock_init(&root->snapshot_lock);
  memalloc_nofs_restore(nofs_flag);
  if (ret == 0) root->initialised = true;
  return ret;
}

[[gnu::noinline]] btrfs_root* btrfs_get_fs_root(btrfs_fs_info* fs_info,
                                                unsigned long long objectid) {
  btrfs_root* root;
  {
    std::lock_guard guard(fs_info->fs_roots_lock);
    auto& slot = fs_info->fs_roots[objectid];
    if (!slot) {
      slot = std::make_unique<btrfs_root>();
      slot->objectid = objectid;
    }
    root = slot.get();
  }
  if (!root->initialised && btrfs_init_fs_root(root) != 0) return nullptr;
  return root;
}

[[gnu::noinline]] int btrfs_sync_fs(super_block* sb, int) {
  return btrfs_commit_transaction(static_cast<btrfs_fs_info*>(sb->s_fs_info));
}

[[gnu::noinline]] void btrfs_kill_super(super_block* sb) {
  kill_anon_super(sb);
  asm volatile("" ::: "memory");
}

}  // extern "C"

namespace {

std::atomic<int> race_window_ms{0};
std::atomic<int> threads_in_window{0};

const super_operations btrfs_super_ops = {
    .evict_inode = btrfs_evict_inode,
    .sync_fs = btrfs_sync_fs,
    .ioctl = btrfs_ioctl,
};

file_system_type btrfs_type{.name = "btrfs", .kill_sb = btrfs_kill_super};

}  // namespace

extern "C" {

file_system_type* btrfs_fs_type() {
  return &btrfs_type;
}

void btrfs_set_race_window_ms(int milliseconds) {
  race_window_ms.store(milliseconds);
}

int btrfs_threads_in_race_window() {
  return threads_in_window.load();
}

[[gnu::noinline]] void btrfs_race_window() {
  int milliseconds = race_window_ms.load();
  if (milliseconds == 0) return;
  ++threads_in_window;
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
  --threads_in_window;
}

[[gnu::noinline]] btrfs_fs_info* btrfs_mount(int nr_inodes) {
  auto* fs_info = new btrfs_fs_info;
  // btrfs_read_block_groups(): groups join their space_info under groups_sem, for write.
  down_write(&fs_info->space_info.groups_sem);
  for (int i = 0; i < 2; ++i) {
    fs_info->space_info.block_groups.push_back(std::make_unique<btrfs_block_group>());
  }
  up_write(&fs_info->space_info.groups_sem);
  fs_info->metadata_group = fs_info->space_info.block_groups[0].get();
  fs_info->metadata_group->cached = true;
  fs_info->data_group = fs_info->space_info.block_groups[1].get();

  fs_info->sb = sget(&btrfs_type, &btrfs_super_ops, fs_info);
  for (int i = 0; i < nr_inodes; ++i) {
    auto node = std::make_unique<btrfs_delayed_node>();
    auto cached = std::make_unique<btrfs_inode>();
    cached->vfs_inode.i_sb = fs_info->sb;
    cached->vfs_inode.i_ino = 257 + i;
    cached->vfs_inode.i_private = cached.get();
    cached->delayed_node = node.get();
    node->pending_items = 1;
    inode_add_lru(&cached->vfs_inode);
    fs_info->delayed_nodes.push_back(std::move(node));
    fs_info->inodes.push_back(std::move(cached));
  }
  return fs_info;
}

}  // extern "C"

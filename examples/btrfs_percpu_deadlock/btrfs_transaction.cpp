// Transaction commit and extent allocation (transaction.c, delayed-inode.c, ctree.c,
// extent-tree.c, block-group.c): the two paths that record
//   #1 &delayed_node->mutex --> &space_info->groups_sem   (running delayed items)
//   #2 &space_info->groups_sem --> &fs_info->commit_root_sem   (caching a block group)
#include "btrfs_internal.hpp"
#include "lockdep/mm/locking.hpp"

#define KEEP_FRAME() asm volatile("" ::: "memory")

extern "C" {

[[gnu::noinline]] int btrfs_cache_block_group(btrfs_fs_info* fs_info, btrfs_block_group* group) {
  // Caching a group's free space switches the commit roots: commit_root_sem for write.
  down_write(&fs_info->commit_root_sem);
  group->cached = true;
  up_write(&fs_info->commit_root_sem);
  return 0;
}

[[gnu::noinline]] int find_free_extent(btrfs_fs_info* fs_info, btrfs_block_group* group) {
  down_read(&fs_info->space_info.groups_sem);
  int ret = group->cached ? 0 : btrfs_cache_block_group(fs_info, group);
  up_read(&fs_info->space_info.groups_sem);
  return ret;
}

[[gnu::noinline]] int btrfs_reserve_extent(btrfs_fs_info* fs_info, btrfs_block_group* group) {
  int ret = find_free_extent(fs_info, group);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int btrfs_alloc_tree_block(btrfs_fs_info* fs_info, btrfs_block_group* group) {
  int ret = btrfs_reserve_extent(fs_info, group);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int alloc_tree_block_no_bg_flush(btrfs_fs_info* fs_info,
                                                   btrfs_block_group* group) {
  int ret = btrfs_alloc_tree_block(fs_info, group);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int __btrfs_cow_block(btrfs_fs_info* fs_info, btrfs_block_group* group) {
  int ret = alloc_tree_block_no_bg_flush(fs_info, group);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int btrfs_cow_block(btrfs_fs_info* fs_info, btrfs_block_group* group) {
  int ret = __btrfs_cow_block(fs_info, group);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int btrfs_search_slot(btrfs_fs_info* fs_info) {
  // The inode item's leaf is COWed into the (already cached) metadata group.
  int ret = btrfs_cow_block(fs_info, fs_info->metadata_group);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int btrfs_lookup_inode(btrfs_fs_info* fs_info) {
  int ret = btrfs_search_slot(fs_info);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int __btrfs_update_delayed_inode(btrfs_fs_info* fs_info,
                                                   btrfs_delayed_node* node) {
  int ret = btrfs_lookup_inode(fs_info);
  node->pending_items = 0;
  return ret;
}

[[gnu::noinline]] int __btrfs_commit_inode_delayed_items(btrfs_fs_info* fs_info,
                                                         btrfs_delayed_node* node) {
  int ret = __btrfs_update_delayed_inode(fs_info, node);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int __btrfs_run_delayed_items(btrfs_fs_info* fs_info) {
  for (auto& node : fs_info->delayed_nodes) {
    mutex_lock(&node->mutex);
    btrfs_race_window();
    if (node->pending_items > 0) __btrfs_commit_inode_delayed_items(fs_info, node.get());
    mutex_unlock(&node->mutex);
  }
  return 0;
}

[[gnu::noinline]] int commit_cowonly_roots(btrfs_fs_info* fs_info) {
  // The extent tree's new blocks come from the data group, not cached yet.
  int ret = btrfs_cow_block(fs_info, fs_info->data_group);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int btrfs_commit_transaction(btrfs_fs_info* fs_info) {
  int ret = __btrfs_run_delayed_items(fs_info);
  if (ret == 0) ret = commit_cowonly_roots(fs_info);
  return ret;
}

}  // extern "C"

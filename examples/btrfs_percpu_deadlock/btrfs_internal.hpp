// The simulated btrfs's functions, named as in the seed's stack traces.
#pragma once

#include "btrfs.hpp"

extern "C" {
// super.c / disk-io.c
int btrfs_sync_fs(super_block* sb, int wait);
void btrfs_kill_super(super_block* sb);
btrfs_root* btrfs_get_fs_root(btrfs_fs_info* fs_info, unsigned long long objectid);
int btrfs_init_fs_root(btrfs_root* root);
int btrfs_drew_lock_init(btrfs_drew_lock* lock);

// transaction.c, delayed-inode.c, ctree.c, extent-tree.c, block-group.c
int btrfs_commit_transaction(btrfs_fs_info* fs_info);
int __btrfs_run_delayed_items(btrfs_fs_info* fs_info);
int __btrfs_commit_inode_delayed_items(btrfs_fs_info* fs_info, btrfs_delayed_node* node);
int __btrfs_update_delayed_inode(btrfs_fs_info* fs_info, btrfs_delayed_node* node);
int btrfs_lookup_inode(btrfs_fs_info* fs_info);
int btrfs_search_slot(btrfs_fs_info* fs_info);
int commit_cowonly_roots(btrfs_fs_info* fs_info);
int btrfs_cow_block(btrfs_fs_info* fs_info, btrfs_block_group* group);
int __btrfs_cow_block(btrfs_fs_info* fs_info, btrfs_block_group* group);
int alloc_tree_block_no_bg_flush(btrfs_fs_info* fs_info, btrfs_block_group* group);
int btrfs_alloc_tree_block(btrfs_fs_info* fs_info, btrfs_block_group* group);
int btrfs_reserve_extent(btrfs_fs_info* fs_info, btrfs_block_group* group);
int find_free_extent(btrfs_fs_info* fs_info, btrfs_block_group* group);
int btrfs_cache_block_group(btrfs_fs_info* fs_info, btrfs_block_group* group);

// ioctl.c, backref.c
long btrfs_ioctl(super_block* sb, unsigned int command, void* argument);
long btrfs_ioctl_logical_to_ino(btrfs_fs_info* fs_info, btrfs_ioctl_logical_ino_args* args);
int iterate_inodes_from_logical(btrfs_fs_info* fs_info, btrfs_ioctl_logical_ino_args* args);
int iterate_extent_inodes(btrfs_fs_info* fs_info, btrfs_ioctl_logical_ino_args* args);
int btrfs_find_all_leafs(btrfs_fs_info* fs_info, btrfs_ioctl_logical_ino_args* args);
int find_parent_nodes(btrfs_fs_info* fs_info, btrfs_ioctl_logical_ino_args* args);
int resolve_indirect_refs(btrfs_fs_info* fs_info, btrfs_ioctl_logical_ino_args* args);

// The --race window (btrfs_set_race_window_ms), slept where the paths hold their first lock.
void btrfs_race_window();

// inode.c, delayed-inode.c
void btrfs_evict_inode(inode* evicted);
void __btrfs_release_delayed_node(btrfs_delayed_node* node);
}

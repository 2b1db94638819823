// The LOGICAL_INO ioctl (ioctl.c, backref.c): resolving an extent's owners walks backrefs
// with commit_root_sem held for read, and may read a subvolume root for the first time,
// initialising its drew lock inside a NOFS section. That records
//   #3 &fs_info->commit_root_sem --> pcpu_alloc_mutex   (5.6 pcpu_alloc only)
#include <cerrno>

#include "btrfs_internal.hpp"
#include "lockdep/mm/locking.hpp"

#define KEEP_FRAME() asm volatile("" ::: "memory")

extern "C" {

[[gnu::noinline]] int resolve_indirect_refs(btrfs_fs_info* fs_info,
                                            btrfs_ioctl_logical_ino_args* args) {
  btrfs_root* root = btrfs_get_fs_root(fs_info, args->root_objectid);
  KEEP_FRAME();
  return root == nullptr ? -ENOMEM : 0;
}

[[gnu::noinline]] int find_parent_nodes(btrfs_fs_info* fs_info,
                                        btrfs_ioctl_logical_ino_args* args) {
  int ret = resolve_indirect_refs(fs_info, args);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int btrfs_find_all_leafs(btrfs_fs_info* fs_info,
                                           btrfs_ioctl_logical_ino_args* args) {
  int ret = find_parent_nodes(fs_info, args);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] int iterate_extent_inodes(btrfs_fs_info* fs_info,
                                            btrfs_ioctl_logical_ino_args* args) {
  // Without a transaction handle the search uses the commit roots, under commit_root_sem.
  down_read(&fs_info->commit_root_sem);
  btrfs_race_window();
  int ret = btrfs_find_all_leafs(fs_info, args);
  up_read(&fs_info->commit_root_sem);
  return ret;
}

[[gnu::noinline]] int iterate_inodes_from_logical(btrfs_fs_info* fs_info,
                                                  btrfs_ioctl_logical_ino_args* args) {
  int ret = iterate_extent_inodes(fs_info, args);
  KEEP_FRAME();
  return ret;
}

[[gnu::noinline]] long btrfs_ioctl_logical_to_ino(btrfs_fs_info* fs_info,
                                                  btrfs_ioctl_logical_ino_args* args) {
  args->result = iterate_inodes_from_logical(fs_info, args);
  KEEP_FRAME();
  return args->result;
}

[[gnu::noinline]] long btrfs_ioctl(super_block* sb, unsigned int command, void* argument) {
  auto* fs_info = static_cast<btrfs_fs_info*>(sb->s_fs_info);
  if (command != BTRFS_IOC_LOGICAL_INO) return -ENOTTY;
  long ret =
      btrfs_ioctl_logical_to_ino(fs_info, static_cast<btrfs_ioctl_logical_ino_args*>(argument));
  KEEP_FRAME();
  return ret;
}

}  // extern "C"

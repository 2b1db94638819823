// The slice of the VFS the seed's traces pass through: super blocks with their s_umount rwsem
// and inode-cache shrinker, sync, unmount, ioctl, and inode eviction. Kernel core: defined in
// the executable, used by btrfs.so. Function names are the kernel's (C linkage) so that they
// appear as such in lockdep's stack traces.
#pragma once

#include <mutex>
#include <vector>

#include "lockdep/lock_class_key.hpp"
#include "lockdep/mm/shrinker.hpp"
#include "lockdep/shared_mutex.hpp"

struct inode;
struct super_block;

struct super_operations {
  void (*evict_inode)(inode* evicted);
  int (*sync_fs)(super_block* sb, int wait);
  long (*ioctl)(super_block* sb, unsigned int command, void* argument);
};

struct file_system_type {
  const char* name;
  void (*kill_sb)(super_block* sb);
  // One s_umount class per file system type, as lockdep_set_class(&s->s_umount, ...) does.
  lockdep::lock_class_key s_umount_key{"&type->s_umount_key"};
};

struct inode {
  super_block* i_sb = nullptr;
  unsigned long i_ino = 0;
  void* i_private = nullptr;  // the file system's inode
};

struct super_block {
  explicit super_block(file_system_type* type) : s_type(type), s_umount(type->s_umount_key) {}

  file_system_type* s_type;
  const super_operations* s_op = nullptr;
  lockdep::shared_mutex s_umount;
  lockdep::mm::shrinker s_shrink;
  std::mutex s_inode_lru_lock;  // the list_lru's own lock: not part of the modelled chain
  std::vector<inode*> s_inode_lru;
  void* s_fs_info = nullptr;
};

extern "C" {
// Creates a super block (s_umount held for write while it is set up, as alloc_super does)
// with its inode-cache shrinker registered.
super_block* sget(file_system_type* type, const super_operations* operations, void* fs_info);
void inode_add_lru(inode* cached);

void ksys_sync();
void iterate_supers(void (*each)(super_block* sb, void* argument), void* argument);
int sync_filesystem(super_block* sb);

// Unmount, as far as the seed's trace goes: it ends in a transaction commit.
void cleanup_mnt(super_block* sb);
void deactivate_locked_super(super_block* sb);
void kill_anon_super(super_block* sb);
void generic_shutdown_super(super_block* sb);

long ksys_ioctl(super_block* sb, unsigned int command, void* argument);

// The super block shrinker: prunes the inode cache, evicting inodes.
unsigned long super_cache_count(lockdep::mm::shrinker* shrink, lockdep::mm::shrink_control* sc);
unsigned long super_cache_scan(lockdep::mm::shrinker* shrink, lockdep::mm::shrink_control* sc);
int trylock_super(super_block* sb);
long prune_icache_sb(super_block* sb, lockdep::mm::shrink_control* sc);
void dispose_list(std::vector<inode*>* victims);
void evict(inode* victim);
}

// A small simulated btrfs: the structures and locks of the seed's lock chain, and the call
// paths that take them, under the kernel's function names (C linkage, so lockdep's traces show
// them bare, marked [btrfs] because they live in btrfs.so).
//
//   &delayed_node->mutex       mutex, one class for every delayed node
//   &space_info->groups_sem    rwsem
//   &fs_info->commit_root_sem  rwsem
//   snapshot_lock's percpu_counter, initialised inside memalloc_nofs_save() (btrfs_init_fs_root)
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "lockdep/mm/percpu_counter.hpp"
#include "lockdep/mutex.hpp"
#include "lockdep/shared_mutex.hpp"
#include "vfs.hpp"

struct btrfs_delayed_node {
  lockdep::mutex mutex{LOCKDEP_CLASS("&delayed_node->mutex")};
  int pending_items = 0;
};

struct btrfs_inode {
  inode vfs_inode;
  btrfs_delayed_node* delayed_node = nullptr;
};

struct btrfs_block_group {
  bool cached = false;  // caching a group's free space takes commit_root_sem for write
};

struct btrfs_space_info {
  lockdep::shared_mutex groups_sem{LOCKDEP_CLASS("&space_info->groups_sem")};
  std::vector<std::unique_ptr<btrfs_block_group>> block_groups;
};

// The double-reader-writer-exclusion lock (fs/btrfs/locking.c, 5.7); only its initialisation
// matters to the chain: its writers counter is a percpu_counter.
struct btrfs_drew_lock {
  std::atomic<int> readers{0};
  lockdep::mm::percpu_counter writers;
};

struct btrfs_root {
  unsigned long long objectid = 0;
  btrfs_drew_lock snapshot_lock;
  bool initialised = false;
};

struct btrfs_fs_info {
  lockdep::shared_mutex commit_root_sem{LOCKDEP_CLASS("&fs_info->commit_root_sem")};
  btrfs_space_info space_info;
  btrfs_block_group* metadata_group = nullptr;  // cached at mount
  btrfs_block_group* data_group = nullptr;      // cached on first allocation
  std::mutex fs_roots_lock;  // the kernel's fs_roots_radix_lock spinlock: not in the chain
  std::map<unsigned long long, std::unique_ptr<btrfs_root>> fs_roots;
  std::vector<std::unique_ptr<btrfs_delayed_node>> delayed_nodes;
  std::vector<std::unique_ptr<btrfs_inode>> inodes;
  super_block* sb = nullptr;
};

struct btrfs_ioctl_logical_ino_args {
  unsigned long long logical = 0;
  unsigned long long root_objectid = 0;  // the subvolume the extent's backref points to
  int result = 0;
};

inline constexpr unsigned int BTRFS_IOC_LOGICAL_INO = 0x94;

extern "C" {
// Mounts a file system with `nr_inodes` cached inodes, each with a delayed node.
btrfs_fs_info* btrfs_mount(int nr_inodes);
file_system_type* btrfs_fs_type();
// --race: how long the paths linger inside their critical sections (0: not at all), standing
// for the I/O that makes the real windows wide.
void btrfs_set_race_window_ms(int milliseconds);
// How many threads are inside a race window now (holding their first lock).
int btrfs_threads_in_race_window();
}

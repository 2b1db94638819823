// Inode eviction (inode.c, delayed-inode.c): reclaim evicting a cached inode releases its
// delayed node under the node's mutex. From kswapd, holding fs_reclaim, that is
//   #0 fs_reclaim --> &delayed_node->mutex
// which closes the cycle.
#include "btrfs_internal.hpp"
#include "lockdep/mm/locking.hpp"

extern "C" {

[[gnu::noinline]] void __btrfs_release_delayed_node(btrfs_delayed_node* node) {
  mutex_lock(&node->mutex);
  node->pending_items = 0;
  mutex_unlock(&node->mutex);
}

[[gnu::noinline]] void btrfs_evict_inode(inode* evicted) {
  auto* cached = static_cast<btrfs_inode*>(evicted->i_private);
  if (cached->delayed_node != nullptr) __btrfs_release_delayed_node(cached->delayed_node);
  asm volatile("" ::: "memory");
}

}  // extern "C"

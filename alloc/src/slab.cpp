// __kmalloc / kfree over malloc, with the kernel's reclaim hooks and a registry of live blocks.
#include "lockdep/mm/slab.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "lockdep/mm/fs_reclaim.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/reclaim.hpp"
#include "lockdep/validator.hpp"

namespace lockdep::mm {
namespace {

// Live blocks and their requested sizes. A map rather than an in-band header: validating a
// freed or foreign pointer must not read memory through it. The mutex is the model's own, not
// a modelled kernel lock, so it is not instrumented.
struct block_registry {
  std::mutex lock;
  std::unordered_map<const void*, std::size_t> sizes;
};

block_registry& registry() {
  static block_registry* const shared = new block_registry;  // leaked: usable at exit
  return *shared;
}

// The slow path of __alloc_pages_slowpath, reduced to what the model keeps.
void reclaim_for(gfp_t flags) {
  if ((flags & __GFP_KSWAPD_RECLAIM) != 0) wakeup_kswapd();
  if (!gfpflags_allow_blocking(current_gfp_context(flags))) return;
  if ((current_task_flags() & PF_MEMALLOC) != 0) return;  // no recursion into reclaim
  __perform_reclaim(flags);
}

}  // namespace

[[gnu::noinline]] void* __kmalloc(std::size_t size, gfp_t flags) {
  if (size == 0) return ZERO_SIZE_PTR;
  // slab_pre_alloc_hook (might_alloc), called directly so that this frame comes right after
  // fs_reclaim_acquire in traces, as in the kernel's.
  fs_reclaim_acquire(flags);
  fs_reclaim_release(flags);

  account_alloc(size);
  if (over_budget()) reclaim_for(flags);

  void* block = (flags & __GFP_ZERO) != 0 ? std::calloc(1, size) : std::malloc(size);
  if (block == nullptr) {
    account_free(size);
    return nullptr;
  }
  block_registry& r = registry();
  std::lock_guard guard(r.lock);
  r.sizes.emplace(block, size);
  return block;
}

void kfree(const void* block) {
  if (block == nullptr || block == ZERO_SIZE_PTR) return;
  block_registry& r = registry();
  std::size_t size = 0;
  {
    std::lock_guard guard(r.lock);
    auto found = r.sizes.find(block);
    if (found != r.sizes.end()) {
      size = found->second;
      r.sizes.erase(found);
    }
  }
  if (size == 0) {
    report_warning("kfree(): not a live kmalloc block (freed twice, or never allocated by kmalloc)",
                   LOCKDEP_RET_IP);
    return;
  }
  std::free(const_cast<void*>(block));
  account_free(size);
}

void kvfree(const void* block) {
  kfree(block);
}

std::size_t ksize(const void* block) {
  if (block == nullptr || block == ZERO_SIZE_PTR) return 0;
  block_registry& r = registry();
  {
    std::lock_guard guard(r.lock);
    auto found = r.sizes.find(block);
    if (found != r.sizes.end()) return found->second;
  }
  report_warning("ksize(): not a live kmalloc block", LOCKDEP_RET_IP);
  return 0;
}

}  // namespace lockdep::mm

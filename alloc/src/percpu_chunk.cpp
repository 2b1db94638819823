// Chunk memory, the part of mm/percpu-vm.c the model needs: a dynamic chunk is one mapping of
// nr_units units, inaccessible until populated page by page, so touching an unpopulated page
// faults as it would in the kernel. Every allocation the kernel makes here is modelled with
// the same gfp, because those allocations, made under pcpu_alloc_mutex, are what connect the
// mutex to fs_reclaim.
#include <sys/mman.h>

#include <cerrno>
#include <new>

#include "lockdep/mm/fs_reclaim.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/reclaim.hpp"
#include "lockdep/mm/slab.hpp"
#include "percpu_internal.hpp"

namespace lockdep::mm {
namespace {

// The kernel's pcpu_alloc_chunk() makes four pcpu_mem_zalloc() calls for a chunk's metadata:
// the chunk itself with its populated bitmap, alloc_map, bound_map and md_blocks.
std::vector<std::size_t> chunk_metadata_sizes(const pcpu_globals& globals) {
  std::size_t map_bits = globals.unit_pages * PAGE_SIZE / PCPU_MIN_ALLOC_SIZE;
  return {sizeof(pcpu_chunk) + (globals.unit_pages + 7) / 8, map_bits / 8, map_bits / 8 + 1,
          globals.unit_pages * sizeof(pcpu_block_md)};
}

void free_metadata(std::vector<void*>& blocks) {
  for (void* block : blocks) kfree(block);
  blocks.clear();
}

// Pages come from the page allocator, which annotates fs_reclaim and reclaims under pressure
// like the slab allocator does.
void alloc_pages_model(std::size_t bytes, gfp_t gfp) {
  might_alloc(gfp);
  account_alloc(bytes);
  if (!over_budget()) return;
  if (gfpflags_allow_blocking(current_gfp_context(gfp))) __perform_reclaim(gfp);
  if ((gfp & __GFP_KSWAPD_RECLAIM) != 0) wakeup_kswapd();
}

char* unit_page(const pcpu_globals& globals, const pcpu_chunk& chunk, int unit, int page) {
  return chunk.base_addr + static_cast<std::size_t>(unit) * globals.unit_size +
         static_cast<std::size_t>(page) * PAGE_SIZE;
}

}  // namespace

extern "C" [[gnu::noinline]] pcpu_chunk* pcpu_create_chunk(gfp_t gfp) {
  pcpu_globals& globals = pcpu();
  std::vector<void*> metadata;
  for (std::size_t size : chunk_metadata_sizes(globals)) {
    void* block = __kmalloc(size, gfp | __GFP_ZERO);
    if (block == nullptr) {
      free_metadata(metadata);
      return nullptr;
    }
    metadata.push_back(block);
  }
  // pcpu_get_vm_areas(): vmalloc's own bookkeeping is allocated with GFP_KERNEL whatever the
  // caller asked for; only a memalloc scope can keep it out of fs reclaim.
  void* vm_areas = kzalloc(128, GFP_KERNEL);
  std::size_t bytes = static_cast<std::size_t>(globals.nr_units) * globals.unit_size;
  void* mapping = vm_areas == nullptr ? MAP_FAILED
                                      : mmap(nullptr, bytes, PROT_NONE,
                                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) {
    kfree(vm_areas);
    free_metadata(metadata);
    return nullptr;
  }
  metadata.push_back(vm_areas);
  auto* chunk = new pcpu_chunk(pcpu_chunk_map(globals.unit_pages));
  chunk->base_addr = static_cast<char*>(mapping);
  chunk->mapping_bytes = bytes;
  chunk->metadata = std::move(metadata);
  return chunk;
}

extern "C" [[gnu::noinline]] void pcpu_destroy_chunk(pcpu_chunk* chunk) {
  if (chunk == nullptr) return;
  munmap(chunk->base_addr, chunk->mapping_bytes);
  free_metadata(chunk->metadata);
  delete chunk;
}

extern "C" [[gnu::noinline]] int pcpu_populate_chunk(pcpu_chunk* chunk, int page_start,
                                                     int page_end, gfp_t gfp) {
  pcpu_globals& globals = pcpu();
  // pcpu_get_pages(): the temporary page array, allocated once, with GFP_KERNEL.
  if (globals.pages_array == nullptr) {
    std::size_t entries = static_cast<std::size_t>(globals.nr_units) * globals.unit_pages;
    globals.pages_array = kcalloc(entries, sizeof(void*), GFP_KERNEL);
    if (globals.pages_array == nullptr) return -ENOMEM;
  }
  std::size_t pages = static_cast<std::size_t>(page_end - page_start);
  alloc_pages_model(pages * PAGE_SIZE * globals.nr_units, gfp | __GFP_HIGHMEM);
  // map_kernel_range_noflush(): page tables are allocated with GFP_KERNEL, ignoring gfp.
  might_alloc(GFP_KERNEL);
  for (int unit = 0; unit < globals.nr_units; ++unit) {
    if (mprotect(unit_page(globals, *chunk, unit, page_start), pages * PAGE_SIZE,
                 PROT_READ | PROT_WRITE) != 0) {
      return -ENOMEM;
    }
  }
  return 0;
}

extern "C" [[gnu::noinline]] void pcpu_depopulate_chunk(pcpu_chunk* chunk, int page_start,
                                                        int page_end) {
  pcpu_globals& globals = pcpu();
  std::size_t pages = static_cast<std::size_t>(page_end - page_start);
  for (int unit = 0; unit < globals.nr_units; ++unit) {
    char* first = unit_page(globals, *chunk, unit, page_start);
    madvise(first, pages * PAGE_SIZE, MADV_DONTNEED);
    mprotect(first, pages * PAGE_SIZE, PROT_NONE);
  }
  account_free(pages * PAGE_SIZE * globals.nr_units);
}

}  // namespace lockdep::mm

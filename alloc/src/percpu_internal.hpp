// The per-CPU allocator's shared state (the globals of mm/percpu.c) and the chunk type. Internal
// to alloc/: percpu.cpp (allocation and free), percpu_chunk.cpp (chunk memory) and
// percpu_balance.cpp (the balance work) share it.
#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <vector>

#include "lockdep/mm/gfp.hpp"
#include "lockdep/mm/percpu.hpp"
#include "lockdep/mm/workqueue.hpp"
#include "pcpu_chunk_map.hpp"

namespace lockdep::mm {

struct pcpu_chunk {
  pcpu_chunk_map map;
  char* base_addr = nullptr;                  // unit 0's byte 0 of this chunk
  std::size_t mapping_bytes = 0;              // dynamic chunks: the whole mmap (all units)
  int slot = -1;                              // the slot list it is on; -1 for the reserved chunk
  std::list<pcpu_chunk*>::iterator position;  // in its slot list
  std::vector<void*> metadata;  // the kzalloc'd blocks standing for the kernel's chunk metadata

  explicit pcpu_chunk(pcpu_chunk_map area_map) : map(std::move(area_map)) {}
};

struct pcpu_globals {
  int nr_units = 1;
  std::size_t unit_size = 64 << 10;
  int unit_pages = 16;
  int nr_slots = 0;
  std::vector<std::list<pcpu_chunk*>> slots;  // pcpu_slot[]
  pcpu_chunk* first_chunk = nullptr;          // serves the dynamic part of the first chunk
  pcpu_chunk* reserved_chunk = nullptr;
  // The unit-0 byte ranges the first and reserved chunks hand out (they share a page).
  const char* first_begin = nullptr;
  const char* first_end = nullptr;
  const char* reserved_begin = nullptr;
  const char* reserved_end = nullptr;
  std::map<const char*, pcpu_chunk*> dynamic_chunks;  // by base_addr, for free_percpu
  // pcpu_nr_empty_pop_pages (the reserved chunk excluded). Written under pcpu_lock; atomic
  // because pcpu_alloc, as the kernel's, reads it after dropping the lock to decide whether
  // to schedule the balance work.
  std::atomic<int> nr_empty_pop_pages{0};
  int nr_populated = 0;
  bool atomic_alloc_failed = false;
  std::size_t allocations = 0;
  void* pages_array = nullptr;  // pcpu_get_pages(): allocated once, with GFP_KERNEL
  work_struct balance_work;
};

// The allocator's state, set up with the first chunk on first use. Fields are guarded by
// pcpu_lock, chunk creation and population by pcpu_alloc_mutex, as in the kernel.
pcpu_globals& pcpu();

int pcpu_size_to_slot(const pcpu_globals& globals, std::size_t size);
int pcpu_chunk_slot(const pcpu_globals& globals, const pcpu_chunk& chunk);
// Puts the chunk on the list of its current slot (oslot = its previous slot, -1 when new).
void pcpu_chunk_relocate(pcpu_globals& globals, pcpu_chunk& chunk, int oslot);
void pcpu_chunk_move(pcpu_globals& globals, pcpu_chunk& chunk, int slot);
void pcpu_schedule_balance_work();

// Runs `change` on the chunk's map and keeps the global populated / empty-page counts in step.
template <class Change>
void pcpu_update_chunk(pcpu_globals& globals, pcpu_chunk& chunk, Change&& change) {
  int empty_before = chunk.map.nr_empty_pop_pages();
  int populated_before = chunk.map.nr_populated();
  change(chunk.map);
  if (&chunk != globals.reserved_chunk) {
    globals.nr_empty_pop_pages.store(globals.nr_empty_pop_pages.load(std::memory_order_relaxed) +
                                         chunk.map.nr_empty_pop_pages() - empty_before,
                                     std::memory_order_relaxed);
  }
  globals.nr_populated += chunk.map.nr_populated() - populated_before;
}

extern "C" {
// Chunk memory (percpu-vm.c). Called with pcpu_alloc_mutex held and pcpu_lock not held.
pcpu_chunk* pcpu_create_chunk(gfp_t gfp);
void pcpu_destroy_chunk(pcpu_chunk* chunk);
// Makes pages [page_start, page_end) of every unit accessible; 0 or -ENOMEM.
int pcpu_populate_chunk(pcpu_chunk* chunk, int page_start, int page_end, gfp_t gfp);
void pcpu_depopulate_chunk(pcpu_chunk* chunk, int page_start, int page_end);
}

}  // namespace lockdep::mm

// pcpu_balance_workfn (mm/percpu.c, v5.7): frees surplus empty chunks and keeps enough
// populated empty pages for atomic allocations, creating a chunk when none has pages left to
// populate. It holds pcpu_alloc_mutex throughout and allocates with GFP_KERNEL, so it records
// "pcpu_alloc_mutex --> fs_reclaim": edge #4 of the seed's chain.
#include <vector>

#include "lockdep/mm/locking.hpp"
#include "percpu_internal.hpp"

namespace lockdep::mm {
namespace {

constexpr gfp_t balance_gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;

// Every fully free chunk but the first one on the empty slot's list. pcpu_lock held.
std::vector<pcpu_chunk*> take_surplus_empty_chunks(pcpu_globals& globals) {
  std::vector<pcpu_chunk*> surplus;
  auto& empty = globals.slots[globals.nr_slots - 1];
  for (auto at = empty.begin(); at != empty.end();) {
    pcpu_chunk* chunk = *at++;
    if (chunk == empty.front() || chunk == globals.first_chunk) continue;
    empty.erase(chunk->position);
    chunk->slot = -1;
    globals.dynamic_chunks.erase(chunk->base_addr);
    surplus.push_back(chunk);
  }
  return surplus;
}

void free_surplus_chunks(pcpu_globals& globals) {
  std::vector<pcpu_chunk*> surplus;
  {
    std::lock_guard guard(pcpu_lock());
    surplus = take_surplus_empty_chunks(globals);
  }
  for (pcpu_chunk* chunk : surplus) {
    int run_start = 0, run_end = 0;
    for (int from = 0; chunk->map.next_populated(from, chunk->map.nr_pages(), &run_start, &run_end);
         from = run_end) {
      pcpu_depopulate_chunk(chunk, run_start, run_end);
      std::lock_guard guard(pcpu_lock());
      pcpu_update_chunk(globals, *chunk,
                        [&](pcpu_chunk_map& map) { map.mark_depopulated(run_start, run_end); });
    }
    pcpu_destroy_chunk(chunk);
  }
}

// A chunk in a slot able to serve a page that still has unpopulated pages. pcpu_lock held.
pcpu_chunk* chunk_with_unpopulated_pages(pcpu_globals& globals) {
  for (int slot = pcpu_size_to_slot(globals, PAGE_SIZE); slot < globals.nr_slots; ++slot) {
    for (pcpu_chunk* chunk : globals.slots[slot]) {
      if (chunk->map.nr_pages() - chunk->map.nr_populated() > 0) return chunk;
    }
  }
  return nullptr;
}

// Populates up to nr_to_pop pages; what is left when no chunk had room.
int populate_pages(pcpu_globals& globals, int nr_to_pop) {
  while (nr_to_pop > 0) {
    pcpu_chunk* chunk;
    {
      std::lock_guard guard(pcpu_lock());
      chunk = chunk_with_unpopulated_pages(globals);
    }
    if (chunk == nullptr) return nr_to_pop;
    int run_start = 0, run_end = 0;
    for (int from = 0; nr_to_pop > 0 && chunk->map.next_unpopulated(from, chunk->map.nr_pages(),
                                                                    &run_start, &run_end);
         from = run_end) {
      int count = std::min(run_end - run_start, nr_to_pop);
      if (pcpu_populate_chunk(chunk, run_start, run_start + count, balance_gfp) != 0) return 0;
      nr_to_pop -= count;
      std::lock_guard guard(pcpu_lock());
      pcpu_update_chunk(globals, *chunk, [&](pcpu_chunk_map& map) {
        map.mark_populated(run_start, run_start + count);
      });
      run_end = run_start + count;
    }
  }
  return 0;
}

}  // namespace

extern "C" [[gnu::noinline]] void pcpu_balance_workfn(work_struct*) {
  pcpu_globals& globals = pcpu();
  mutex_lock(&pcpu_alloc_mutex());
  free_surplus_chunks(globals);
  while (true) {
    int nr_to_pop;
    {
      std::lock_guard guard(pcpu_lock());
      if (globals.atomic_alloc_failed) {
        nr_to_pop = PCPU_EMPTY_POP_PAGES_HIGH;
        globals.atomic_alloc_failed = false;
      } else {
        int empty = globals.nr_empty_pop_pages.load(std::memory_order_relaxed);
        nr_to_pop = std::clamp(PCPU_EMPTY_POP_PAGES_HIGH - empty, 0, PCPU_EMPTY_POP_PAGES_HIGH);
      }
    }
    if (populate_pages(globals, nr_to_pop) == 0) break;
    // No chunk had pages left to populate: make one, then try again.
    pcpu_chunk* created = pcpu_create_chunk(balance_gfp);
    if (created == nullptr) break;
    std::lock_guard guard(pcpu_lock());
    globals.dynamic_chunks.emplace(created->base_addr, created);
    pcpu_chunk_relocate(globals, *created, -1);
  }
  mutex_unlock(&pcpu_alloc_mutex());
}

}  // namespace lockdep::mm

// pcpu_alloc() and free_percpu() (mm/percpu.c, v5.7), the first chunk, and the slot lists.
#include "lockdep/mm/percpu.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "lockdep/mm/locking.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/validator.hpp"
#include "percpu_internal.hpp"

namespace lockdep::mm {
namespace {

constexpr int PCPU_SLOT_BASE_SHIFT = 5;
constexpr int PCPU_SLOT_FAIL_THRESHOLD = 3;
// The first chunk's layout: a static area (standing for the kernel image's per-CPU variables),
// the reserved area for modules, and the dynamic area.
constexpr int first_chunk_static_size = 1024;
constexpr int PERCPU_MODULE_RESERVE = 8 << 10;
constexpr int PERCPU_DYNAMIC_RESERVE = 28 << 10;

constinit lockdep::mutex alloc_mutex{"pcpu_alloc_mutex"};
constinit lockdep::spinlock area_lock{"pcpu_lock"};
std::atomic<pcpu_alloc_behaviour> behaviour{pcpu_alloc_behaviour::v5_7};

int fls(std::size_t value) {
  return value == 0 ? 0 : 64 - __builtin_clzll(value);
}

int size_to_slot_unchecked(std::size_t size) {
  return std::max(fls(size) - PCPU_SLOT_BASE_SHIFT + 2, 1);
}

// pcpu_alloc_first_chunk(): a chunk over [start, start + size) of every unit, its partial
// head and tail pages hidden, fully populated.
pcpu_chunk* first_chunk_over(char* unit_base, int start, int size) {
  int start_offset = start % PAGE_SIZE;
  int region = start_offset + size;
  int nr_pages = (region + PAGE_SIZE - 1) / PAGE_SIZE;
  auto* chunk =
      new pcpu_chunk(pcpu_chunk_map(nr_pages, start_offset, nr_pages * PAGE_SIZE - region));
  chunk->base_addr = unit_base + (start - start_offset);
  return chunk;
}

pcpu_globals* setup_first_chunk() {
  auto* globals = new pcpu_globals;
  globals->nr_units = std::max(get_nprocs_conf(), 1);
  globals->nr_slots = size_to_slot_unchecked(globals->unit_size) + 2;
  globals->slots.resize(globals->nr_slots);
  std::size_t bytes = static_cast<std::size_t>(globals->nr_units) * globals->unit_size;
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  auto* unit_base = static_cast<char*>(base);
  globals->reserved_chunk =
      first_chunk_over(unit_base, first_chunk_static_size, PERCPU_MODULE_RESERVE);
  globals->first_chunk = first_chunk_over(
      unit_base, first_chunk_static_size + PERCPU_MODULE_RESERVE, PERCPU_DYNAMIC_RESERVE);
  char* dynamic_start = unit_base + first_chunk_static_size + PERCPU_MODULE_RESERVE;
  globals->reserved_begin = unit_base + first_chunk_static_size;
  globals->reserved_end = dynamic_start;
  globals->first_begin = dynamic_start;
  globals->first_end = dynamic_start + PERCPU_DYNAMIC_RESERVE;
  pcpu_chunk_relocate(*globals, *globals->first_chunk, -1);
  globals->nr_empty_pop_pages.store(globals->first_chunk->map.nr_empty_pop_pages(),
                                    std::memory_order_relaxed);
  globals->nr_populated =
      globals->first_chunk->map.nr_populated() + globals->reserved_chunk->map.nr_populated();
  INIT_WORK(&globals->balance_work, pcpu_balance_workfn);
  detail::geometry.unit_size.store(globals->unit_size, std::memory_order_relaxed);
  detail::geometry.nr_units.store(globals->nr_units, std::memory_order_release);
  return globals;
}

// pcpu_chunk_addr_search(): the first and reserved chunks by the range they manage (they share
// a page, each hiding the other's part), dynamic chunks by base address.
pcpu_chunk* chunk_containing(pcpu_globals& globals, const char* address) {
  if (address >= globals.reserved_begin && address < globals.reserved_end) {
    return globals.reserved_chunk;
  }
  if (address >= globals.first_begin && address < globals.first_end) return globals.first_chunk;
  auto after = globals.dynamic_chunks.upper_bound(address);
  if (after == globals.dynamic_chunks.begin()) return nullptr;
  pcpu_chunk* candidate = std::prev(after)->second;
  return address < candidate->base_addr + globals.unit_size ? candidate : nullptr;
}

// Finds and allocates an area in the chunks of the slots that may fit it; the chunk and byte
// offset, or nullptr. pcpu_lock held.
pcpu_chunk* find_area(pcpu_globals& globals, std::size_t size, int bits, int bit_align,
                      bool is_atomic, int* offset) {
  for (int slot = pcpu_size_to_slot(globals, size); slot < globals.nr_slots; ++slot) {
    auto& list = globals.slots[slot];
    for (auto at = list.begin(); at != list.end();) {
      pcpu_chunk& chunk = **at++;  // advance first: the chunk may move to another list
      int start = chunk.map.find_block_fit(bits, bit_align, is_atomic);
      if (start < 0) {
        if (slot < PCPU_SLOT_FAIL_THRESHOLD) pcpu_chunk_move(globals, chunk, 0);
        continue;
      }
      int oslot = pcpu_chunk_slot(globals, chunk);
      int found = -1;
      pcpu_update_chunk(globals, chunk, [&](pcpu_chunk_map& map) {
        found = map.alloc_area(bits, bit_align, start);
      });
      if (found < 0) continue;
      pcpu_chunk_relocate(globals, chunk, oslot);
      *offset = found;
      return &chunk;
    }
  }
  return nullptr;
}

// Makes every page under the new area accessible. pcpu_alloc_mutex held, pcpu_lock not.
bool populate_area(pcpu_globals& globals, pcpu_chunk& chunk, int offset, std::size_t size,
                   gfp_t pcpu_gfp) {
  int page_start = offset / PAGE_SIZE;
  int page_end = static_cast<int>((offset + size + PAGE_SIZE - 1) / PAGE_SIZE);
  int run_start = 0, run_end = 0;
  for (int from = page_start; chunk.map.next_unpopulated(from, page_end, &run_start, &run_end);
       from = run_end) {
    if (pcpu_populate_chunk(&chunk, run_start, run_end, pcpu_gfp) != 0) return false;
    std::lock_guard guard(area_lock);
    pcpu_update_chunk(globals, chunk,
                      [&](pcpu_chunk_map& map) { map.mark_populated(run_start, run_end); });
  }
  return true;
}

void warn_failure(std::size_t size, std::size_t align, bool is_atomic, const char* error,
                  const void* ip) {
  static std::atomic<int> warn_limit{10};
  if (warn_limit.fetch_sub(1) <= 0) return;
  lockdep::report_warning(fmt::format("percpu: allocation failed, size={} align={} atomic={}, {}",
                                      size, align, is_atomic ? 1 : 0, error),
                          ip);
}

}  // namespace

pcpu_globals& pcpu() {
  static pcpu_globals* globals = setup_first_chunk();
  return *globals;
}

int pcpu_size_to_slot(const pcpu_globals& globals, std::size_t size) {
  if (size == globals.unit_size) return globals.nr_slots - 1;
  return size_to_slot_unchecked(size);
}

int pcpu_chunk_slot(const pcpu_globals& globals, const pcpu_chunk& chunk) {
  if (chunk.map.free_bytes() < PCPU_MIN_ALLOC_SIZE || chunk.map.contig_hint_bytes() == 0) return 0;
  return pcpu_size_to_slot(globals, static_cast<std::size_t>(chunk.map.contig_hint_bytes()));
}

namespace {

void move_to_slot(pcpu_globals& globals, pcpu_chunk& chunk, int slot, bool to_head) {
  if (chunk.slot >= 0) globals.slots[chunk.slot].erase(chunk.position);
  auto& list = globals.slots[slot];
  chunk.position = list.insert(to_head ? list.begin() : list.end(), &chunk);
  chunk.slot = slot;
}

}  // namespace

void pcpu_chunk_relocate(pcpu_globals& globals, pcpu_chunk& chunk, int oslot) {
  if (&chunk == globals.reserved_chunk) return;
  int nslot = pcpu_chunk_slot(globals, chunk);
  if (oslot != nslot || chunk.slot < 0) move_to_slot(globals, chunk, nslot, oslot < nslot);
}

void pcpu_chunk_move(pcpu_globals& globals, pcpu_chunk& chunk, int slot) {
  move_to_slot(globals, chunk, slot, true);
}

void pcpu_schedule_balance_work() {
  schedule_work(&pcpu().balance_work);
}

void set_pcpu_alloc_behaviour(pcpu_alloc_behaviour chosen) {
  behaviour.store(chosen);
}
pcpu_alloc_behaviour get_pcpu_alloc_behaviour() {
  return behaviour.load();
}

lockdep::mutex& pcpu_alloc_mutex() {
  return alloc_mutex;
}
lockdep::spinlock& pcpu_lock() {
  return area_lock;
}

extern "C" [[gnu::noinline]] void* pcpu_alloc(std::size_t size, std::size_t align, bool reserved,
                                              gfp_t gfp) {
  const void* ip = LOCKDEP_RET_IP;
  // The one line commit 28307d938fb2 added: honour the task's NOFS/NOIO scope.
  if (behaviour.load(std::memory_order_relaxed) == pcpu_alloc_behaviour::v5_7) {
    gfp = current_gfp_context(gfp);
  }
  gfp_t pcpu_gfp = gfp & (GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
  bool is_atomic = (gfp & GFP_KERNEL) != GFP_KERNEL;
  bool do_warn = (gfp & __GFP_NOWARN) == 0;

  align = std::max<std::size_t>(align, PCPU_MIN_ALLOC_SIZE);
  size = (size + PCPU_MIN_ALLOC_SIZE - 1) & ~std::size_t{PCPU_MIN_ALLOC_SIZE - 1};
  if (size == 0 || size > PCPU_MIN_UNIT_SIZE || align > PAGE_SIZE || (align & (align - 1)) != 0) {
    if (do_warn) {
      lockdep::report_warning(
          fmt::format("illegal size ({}) or align ({}) for percpu allocation", size, align), ip);
    }
    return nullptr;
  }
  int bits = static_cast<int>(size / PCPU_MIN_ALLOC_SIZE);
  int bit_align = static_cast<int>(align / PCPU_MIN_ALLOC_SIZE);

  pcpu_globals& globals = pcpu();
  if (!is_atomic) mutex_lock_killable(&alloc_mutex);
  area_lock.lock();
  pcpu_chunk* chunk = nullptr;
  int offset = -1;
  const char* error = nullptr;
  if (reserved && globals.reserved_chunk != nullptr) {
    int start = globals.reserved_chunk->map.find_block_fit(bits, bit_align, is_atomic);
    if (start >= 0) {
      pcpu_update_chunk(globals, *globals.reserved_chunk, [&](pcpu_chunk_map& map) {
        offset = map.alloc_area(bits, bit_align, start);
      });
    }
    if (offset >= 0) {
      chunk = globals.reserved_chunk;
    } else {
      area_lock.unlock();
      error = "alloc from reserved chunk failed";
    }
  } else {
    while ((chunk = find_area(globals, size, bits, bit_align, is_atomic, &offset)) == nullptr) {
      area_lock.unlock();
      if (is_atomic) {
        error = "atomic alloc failed, no space left";
        break;
      }
      // The mutex serializes creation: at most one new empty chunk per pass.
      if (globals.slots[globals.nr_slots - 1].empty()) {
        pcpu_chunk* created = pcpu_create_chunk(pcpu_gfp);
        if (created == nullptr) {
          error = "failed to allocate new chunk";
          break;
        }
        area_lock.lock();
        globals.dynamic_chunks.emplace(created->base_addr, created);
        pcpu_chunk_relocate(globals, *created, -1);
      } else {
        area_lock.lock();
      }
    }
  }
  if (chunk != nullptr) {
    ++globals.allocations;
    area_lock.unlock();
  }

  if (chunk != nullptr && !is_atomic && !populate_area(globals, *chunk, offset, size, pcpu_gfp)) {
    std::lock_guard guard(area_lock);
    pcpu_update_chunk(globals, *chunk, [&](pcpu_chunk_map& map) { map.free_area(offset); });
    --globals.allocations;
    chunk = nullptr;
    error = "failed to populate";
  }
  if (!is_atomic) mutex_unlock(&alloc_mutex);

  if (chunk == nullptr) {
    if (error != nullptr && !is_atomic && do_warn) warn_failure(size, align, is_atomic, error, ip);
    if (is_atomic) {
      // Atomic callers cannot wait for population: remember it, warn once, and have the
      // balance work populate pages for the next caller.
      static std::atomic<bool> warned{false};
      if (do_warn && !warned.exchange(true)) warn_failure(size, align, is_atomic, error, ip);
      {
        std::lock_guard guard(area_lock);
        globals.atomic_alloc_failed = true;
      }
      pcpu_schedule_balance_work();
    }
    return nullptr;
  }
  if (globals.nr_empty_pop_pages.load(std::memory_order_relaxed) < PCPU_EMPTY_POP_PAGES_LOW) {
    pcpu_schedule_balance_work();
  }
  char* area = chunk->base_addr + offset;
  for (int cpu = 0; cpu < globals.nr_units; ++cpu) {
    std::memset(area + static_cast<std::size_t>(cpu) * globals.unit_size, 0, size);
  }
  return area;
}

extern "C" [[gnu::noinline]] void free_percpu(void* ptr) {
  if (ptr == nullptr) return;
  const void* ip = LOCKDEP_RET_IP;
  pcpu_globals& globals = pcpu();
  auto* address = static_cast<char*>(ptr);
  bool need_balance = false;
  const char* problem = nullptr;
  {
    std::lock_guard guard(area_lock);
    pcpu_chunk* chunk = chunk_containing(globals, address);
    int freed = -1;
    if (chunk == nullptr) {
      problem = "not a per-CPU allocation";
    } else {
      int oslot = pcpu_chunk_slot(globals, *chunk);
      int offset = static_cast<int>(address - chunk->base_addr);
      pcpu_update_chunk(globals, *chunk,
                        [&](pcpu_chunk_map& map) { freed = map.free_area(offset); });
      if (freed < 0) {
        problem = "no allocation starts there (freed twice?)";
      } else {
        --globals.allocations;
        pcpu_chunk_relocate(globals, *chunk, oslot);
        // A second fully free chunk is surplus: let the balance work release one.
        if (chunk->map.free_bytes() == static_cast<int>(globals.unit_size)) {
          for (pcpu_chunk* other : globals.slots[globals.nr_slots - 1]) {
            if (other != chunk) need_balance = true;
          }
        }
      }
    }
  }
  if (problem != nullptr) {
    lockdep::report_warning(fmt::format("free_percpu({}): {}", ptr, problem), ip);
    return;
  }
  if (need_balance) pcpu_schedule_balance_work();
}

void detail::setup_pcpu() {
  pcpu();
}

pcpu_stats get_pcpu_stats() {
  pcpu_globals& globals = pcpu();
  std::lock_guard guard(area_lock);
  pcpu_stats stats;
  stats.nr_chunks = static_cast<int>(globals.dynamic_chunks.size());
  stats.nr_empty_pop_pages = globals.nr_empty_pop_pages.load(std::memory_order_relaxed);
  stats.nr_populated = globals.nr_populated;
  stats.atomic_alloc_failed = globals.atomic_alloc_failed;
  stats.allocations = globals.allocations;
  return stats;
}

void flush_pcpu_balance_work() {
  flush_work(&pcpu().balance_work);
}

}  // namespace lockdep::mm

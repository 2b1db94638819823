// The per-CPU allocator (mm/percpu.c, v5.7), instrumented with lockdep.
//
// A per-CPU allocation is one area at the same offset in every possible CPU's unit of a chunk;
// the returned pointer addresses CPU 0's copy and per_cpu_ptr() finds the others. Chunks come
// from a first chunk (with a reserved area) set up on first use, and from dynamic chunks that
// are created and populated page by page on demand.
//
// Locking, as in the kernel: `pcpu_lock` (a lockdep::spinlock) protects the area maps and is
// never held across an allocation; `pcpu_alloc_mutex` (a lockdep::mutex) serializes chunk
// creation and population, and non-atomic pcpu_alloc() calls take it, so anything they
// allocate while holding it (with GFP_KERNEL: an fs_reclaim acquisition) becomes a dependency
// "pcpu_alloc_mutex --> fs_reclaim". Atomic callers are served from populated pages only.
//
// Which calls are atomic is the heart of the seed deadlock: v5_6 decides from the gfp argument
// alone, so GFP_KERNEL inside memalloc_nofs_save() takes the mutex; v5_7 applies
// current_gfp_context() first, so the same call is atomic (GFP_NOFS is not GFP_KERNEL).
//
// Thread safety: everything may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

#include "lockdep/mm/gfp.hpp"
#include "lockdep/mutex.hpp"
#include "lockdep/spinlock.hpp"

namespace lockdep::mm {

enum class pcpu_alloc_behaviour {
  v5_6,  // is_atomic from the gfp argument alone (the bug)
  v5_7,  // gfp = current_gfp_context(gfp) first (the fix, commit 28307d938fb2); the default
};
void set_pcpu_alloc_behaviour(pcpu_alloc_behaviour behaviour);
pcpu_alloc_behaviour get_pcpu_alloc_behaviour();

inline constexpr std::size_t PCPU_MIN_UNIT_SIZE = 32 << 10;  // also the largest allocation
inline constexpr int PCPU_EMPTY_POP_PAGES_LOW = 2;
inline constexpr int PCPU_EMPTY_POP_PAGES_HIGH = 4;

struct work_struct;

extern "C" {
// The kernel's pcpu_alloc(): `size` bytes aligned to `align` in every CPU's unit, zeroed;
// nullptr on failure. Bad sizes or alignments give a WARN-style report (unless __GFP_NOWARN)
// and nullptr.
void* pcpu_alloc(std::size_t size, std::size_t align, bool reserved, gfp_t gfp);
// Frees an allocation. A pointer that is not a live per-CPU allocation (never allocated, freed
// already, or pointing inside one) gives a WARN-style report and changes nothing.
void free_percpu(void* ptr);
// The balance work function (runs on the system workqueue).
void pcpu_balance_workfn(work_struct* work);
}

inline void* __alloc_percpu_gfp(std::size_t size, std::size_t align, gfp_t gfp) {
  return pcpu_alloc(size, align, false, gfp);
}
inline void* __alloc_percpu(std::size_t size, std::size_t align) {
  return pcpu_alloc(size, align, false, GFP_KERNEL);
}
inline void* __alloc_reserved_percpu(std::size_t size, std::size_t align) {
  return pcpu_alloc(size, align, true, GFP_KERNEL);
}

template <class T>
T* alloc_percpu_gfp(gfp_t gfp) {
  return static_cast<T*>(__alloc_percpu_gfp(sizeof(T), alignof(T), gfp));
}
template <class T>
T* alloc_percpu() {
  return alloc_percpu_gfp<T>(GFP_KERNEL);
}

namespace detail {
// Set once when the allocator starts; read on every per_cpu_ptr(), so kept out of any guard
// and on a cache line of its own.
struct alignas(64) pcpu_geometry {
  std::atomic<int> nr_units{0};
  std::atomic<std::size_t> unit_size{0};
};
inline pcpu_geometry geometry;
void setup_pcpu();
}  // namespace detail

// The number of possible CPUs (units per chunk) and the distance between two CPUs' copies.
inline int num_possible_cpus() {
  int units = detail::geometry.nr_units.load(std::memory_order_relaxed);
  if (units == 0) [[unlikely]] {
    detail::setup_pcpu();
    units = detail::geometry.nr_units.load(std::memory_order_relaxed);
  }
  return units;
}
inline std::size_t pcpu_unit_size() {
  std::size_t size = detail::geometry.unit_size.load(std::memory_order_relaxed);
  if (size == 0) [[unlikely]] {
    detail::setup_pcpu();
    size = detail::geometry.unit_size.load(std::memory_order_relaxed);
  }
  return size;
}
// The CPU the calling thread runs on now (rseq's cpu_id when glibc registered rseq, else
// sched_getcpu()), folded into [0, num_possible_cpus()). Stale as soon as it is read: per-CPU
// data touched with it must use atomic operations.
int raw_smp_processor_id();

template <class T>
T* per_cpu_ptr(T* ptr, int cpu) {
  auto* bytes = reinterpret_cast<char*>(ptr) + static_cast<std::size_t>(cpu) * pcpu_unit_size();
  return reinterpret_cast<T*>(bytes);
}
template <class T>
T* this_cpu_ptr(T* ptr) {
  return per_cpu_ptr(ptr, raw_smp_processor_id());
}

// Owns a per-CPU allocation of T (trivially copyable T: the memory is zeroed, not constructed).
// Movable, not copyable.
template <class T>
class percpu_unique_ptr {
 public:
  percpu_unique_ptr() = default;
  explicit percpu_unique_ptr(T* owned) : owned_(owned) {}
  percpu_unique_ptr(percpu_unique_ptr&& other) noexcept : owned_(other.release()) {}
  percpu_unique_ptr& operator=(percpu_unique_ptr&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~percpu_unique_ptr() { reset(); }

  T* get() const { return owned_; }
  T* release() { return std::exchange(owned_, nullptr); }
  void reset(T* replacement = nullptr) {
    if (owned_ != nullptr) free_percpu(owned_);
    owned_ = replacement;
  }
  explicit operator bool() const { return owned_ != nullptr; }
  T& on_cpu(int cpu) const { return *per_cpu_ptr(owned_, cpu); }

 private:
  T* owned_ = nullptr;
};

template <class T>
percpu_unique_ptr<T> make_percpu(gfp_t gfp = GFP_KERNEL) {
  return percpu_unique_ptr<T>(alloc_percpu_gfp<T>(gfp));
}

// The allocator's two locks, for tests and for code that wants to assert on them.
lockdep::mutex& pcpu_alloc_mutex();
lockdep::spinlock& pcpu_lock();

// Introspection for tests and benchmarks (each takes pcpu_lock).
struct pcpu_stats {
  int nr_chunks = 0;           // dynamic chunks (not counting the first and reserved ones)
  int nr_empty_pop_pages = 0;  // pcpu_nr_empty_pop_pages
  int nr_populated = 0;        // populated pages across chunks
  bool atomic_alloc_failed = false;
  std::size_t allocations = 0;  // live allocations
};
pcpu_stats get_pcpu_stats();
// Waits for scheduled balance work to finish.
void flush_pcpu_balance_work();

}  // namespace lockdep::mm

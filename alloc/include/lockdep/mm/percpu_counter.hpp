// percpu_counter (lib/percpu_counter.c, v5.7): a 64-bit count split into a shared total and a
// small per-CPU delta, so that frequent adds touch only the adding CPU's cache line; a delta
// reaching the batch is folded into the total under the counter's spinlock.
//
// Userspace caveat: a CPU number read in userspace is stale as soon as it is read, so per-CPU
// deltas are updated with atomic operations (two threads may meet on one slot). Exact totals
// need percpu_counter_sum(); percpu_counter_read() is the cheap, approximate total (off by at
// most batch * CPUs).
//
// Thread safety: add/read/sum may run concurrently from any threads; init and destroy may not
// race with other use. Not copyable or movable.
#pragma once

#include <atomic>
#include <cstdint>

#include "lockdep/lock_class_key.hpp"
#include "lockdep/mm/gfp.hpp"
#include "lockdep/mm/percpu.hpp"
#include "lockdep/mm/rseq_percpu.hpp"
#include "lockdep/spinlock.hpp"

namespace lockdep::mm {

struct percpu_counter {
  percpu_counter() = default;
  percpu_counter(const percpu_counter&) = delete;
  percpu_counter& operator=(const percpu_counter&) = delete;

  std::int32_t* counters = nullptr;  // per-CPU deltas, from pcpu_alloc: read by every add
  // Written only by folds: on their own cache line, so that folding on one CPU does not evict
  // `counters` from the others (the kernel's layout shares the line; its folds are rarer).
  alignas(64) lockdep::spinlock lock{LOCKDEP_CLASS("&fbc->lock")};
  std::atomic<std::int64_t> count{0};
};

namespace detail {
// Read by every add: on a cache line of its own, so writes nearby never evict it.
alignas(64) inline std::atomic<int> percpu_counter_batch_size{0};
int compute_percpu_counter_batch();
void percpu_counter_add_batch_slow(percpu_counter* fbc, std::int64_t amount, std::int32_t batch);
}  // namespace detail

// max(32, 2 * CPUs), as the kernel computes it.
inline int percpu_counter_batch() {
  int batch = detail::percpu_counter_batch_size.load(std::memory_order_relaxed);
  return batch != 0 ? batch : detail::compute_percpu_counter_batch();
}

extern "C" {
// Allocates the per-CPU deltas with alloc_percpu_gfp(s32, gfp): 0, or -ENOMEM.
int __percpu_counter_init(percpu_counter* fbc, std::int64_t amount, gfp_t gfp);
}
// Always inlined, as the kernel's macro is: traces go from the caller to __percpu_counter_init.
[[gnu::always_inline]] inline int percpu_counter_init(percpu_counter* fbc, std::int64_t amount,
                                                      gfp_t gfp) {
  return __percpu_counter_init(fbc, amount, gfp);
}
void percpu_counter_destroy(percpu_counter* fbc);
void percpu_counter_set(percpu_counter* fbc, std::int64_t amount);
// The kernel's this_cpu_add() path, always inlined (as the kernel's static inlines are): with
// rseq, one unlocked add to the current CPU's slot, restarted if the thread is preempted or
// migrated; folds and the fallback without rseq go out of line. Inlining matters: as a call, the
// saved registers around it cost as much as the add.
[[gnu::always_inline]] inline void percpu_counter_add_batch(percpu_counter* fbc,
                                                            std::int64_t amount,
                                                            std::int32_t batch) {
  // The geometry is read directly: the deltas were allocated, so the allocator is set up.
  int cpu = rseq::current_cpu();  // -1 without rseq: fails the unsigned comparison
  const detail::pcpu_geometry& geometry = detail::geometry;
  if (static_cast<unsigned>(cpu) <
      static_cast<unsigned>(geometry.nr_units.load(std::memory_order_relaxed))) [[likely]] {
    auto* slot = reinterpret_cast<std::int32_t*>(
        reinterpret_cast<char*>(fbc->counters) +
        static_cast<std::size_t>(cpu) * geometry.unit_size.load(std::memory_order_relaxed));
    std::int64_t local =
        std::atomic_ref<std::int32_t>(*slot).load(std::memory_order_relaxed) + amount;
    // -batch < local < batch, in one unsigned comparison.
    bool within_batch = static_cast<std::uint64_t>(local + batch - 1) <
                        static_cast<std::uint64_t>(2 * static_cast<std::int64_t>(batch) - 1);
    if (within_batch && rseq::add_on_cpu(slot, static_cast<std::int32_t>(amount), cpu)) return;
  }
  detail::percpu_counter_add_batch_slow(fbc, amount, batch);
}
[[gnu::always_inline]] inline void percpu_counter_add(percpu_counter* fbc, std::int64_t amount) {
  percpu_counter_add_batch(fbc, amount, percpu_counter_batch());
}
[[gnu::always_inline]] inline void percpu_counter_inc(percpu_counter* fbc) {
  percpu_counter_add(fbc, 1);
}
[[gnu::always_inline]] inline void percpu_counter_dec(percpu_counter* fbc) {
  percpu_counter_add(fbc, -1);
}
// The exact value: the total plus every CPU's delta, under the lock.
std::int64_t percpu_counter_sum(percpu_counter* fbc);
std::int64_t percpu_counter_sum_positive(percpu_counter* fbc);
// The total without the deltas: cheap and approximate.
inline std::int64_t percpu_counter_read(const percpu_counter* fbc) {
  return fbc->count.load(std::memory_order_relaxed);
}
inline std::int64_t percpu_counter_read_positive(const percpu_counter* fbc) {
  std::int64_t value = percpu_counter_read(fbc);
  return value > 0 ? value : 0;
}
// <0, 0, >0 comparing the counter with rhs, using the cheap read when it is far enough away.
int __percpu_counter_compare(percpu_counter* fbc, std::int64_t rhs, std::int32_t batch);
inline int percpu_counter_compare(percpu_counter* fbc, std::int64_t rhs) {
  return __percpu_counter_compare(fbc, rhs, percpu_counter_batch());
}

}  // namespace lockdep::mm

#include "lockdep/mm/percpu_counter.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>

#include "lockdep/mm/percpu.hpp"
#include "lockdep/mm/rseq_percpu.hpp"

namespace lockdep::mm {
namespace {

std::atomic_ref<std::int32_t> slot_of(percpu_counter* fbc, int cpu) {
  return std::atomic_ref<std::int32_t>(*per_cpu_ptr(fbc->counters, cpu));
}

// Under fbc->lock, the only writer of the total: a plain load and store, where a locked add
// would lengthen the time the lock (and its cache line) is held by a fold.
void add_to_total(percpu_counter* fbc, std::int64_t amount) {
  fbc->count.store(fbc->count.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

}  // namespace

int detail::compute_percpu_counter_batch() {
  // Computed on first use (the CPU count needs the allocator), then read inline.
  int batch = std::max(32, 2 * num_possible_cpus());
  detail::percpu_counter_batch_size.store(batch, std::memory_order_relaxed);
  return batch;
}

extern "C" [[gnu::noinline]] int __percpu_counter_init(percpu_counter* fbc, std::int64_t amount,
                                                       gfp_t gfp) {
  fbc->count.store(amount, std::memory_order_relaxed);
  fbc->counters = static_cast<std::int32_t*>(
      pcpu_alloc(sizeof(std::int32_t), alignof(std::int32_t), false, gfp));
  if (fbc->counters == nullptr) return -ENOMEM;
  return 0;
}

void percpu_counter_destroy(percpu_counter* fbc) {
  if (fbc->counters == nullptr) return;
  free_percpu(fbc->counters);
  fbc->counters = nullptr;
}

void percpu_counter_set(percpu_counter* fbc, std::int64_t amount) {
  std::lock_guard guard(fbc->lock);
  for (int cpu = 0; cpu < num_possible_cpus(); ++cpu) slot_of(fbc, cpu).store(0);
  fbc->count.store(amount, std::memory_order_relaxed);
}

namespace {

// The kernel's this_cpu_add() path, with rseq: exclusive per CPU without a locked instruction.
// False if rseq cannot be used (not registered, or a CPU id beyond the units).
bool add_batch_rseq(percpu_counter* fbc, std::int64_t amount, std::int32_t batch) {
  while (true) {
    int cpu = rseq::current_cpu();
    if (cpu < 0 || cpu >= num_possible_cpus()) return false;
    std::int32_t* slot = per_cpu_ptr(fbc->counters, cpu);
    std::int64_t local =
        std::atomic_ref<std::int32_t>(*slot).load(std::memory_order_relaxed) + amount;
    if (local < batch && local > -batch) {
      if (rseq::add_on_cpu(slot, static_cast<std::int32_t>(amount), cpu)) return true;
      continue;  // preempted or migrated: read the CPU again
    }
    std::lock_guard guard(fbc->lock);
    std::int32_t folded = 0;
    if (!rseq::take_on_cpu(slot, cpu, &folded)) continue;
    add_to_total(fbc, folded + amount);
    return true;
  }
}

}  // namespace

void detail::percpu_counter_add_batch_slow(percpu_counter* fbc, std::int64_t amount,
                                           std::int32_t batch) {
  if (add_batch_rseq(fbc, amount, batch)) return;
  // Without rseq a CPU number may be stale by the time it is used: atomic operations keep two
  // threads meeting on one slot correct.
  std::atomic_ref<std::int32_t> slot = slot_of(fbc, raw_smp_processor_id());
  std::int64_t local = slot.load(std::memory_order_relaxed) + amount;
  if (local < batch && local > -batch) {
    slot.fetch_add(static_cast<std::int32_t>(amount), std::memory_order_relaxed);
    return;
  }
  // Fold: whatever the slot holds now (another thread may have added meanwhile) moves to the
  // total together with this amount, so nothing is lost or counted twice.
  std::lock_guard guard(fbc->lock);
  std::int32_t folded = slot.exchange(0, std::memory_order_relaxed);
  add_to_total(fbc, folded + amount);
}

std::int64_t percpu_counter_sum(percpu_counter* fbc) {
  std::lock_guard guard(fbc->lock);
  std::int64_t total = fbc->count.load(std::memory_order_relaxed);
  for (int cpu = 0; cpu < num_possible_cpus(); ++cpu) {
    total += slot_of(fbc, cpu).load(std::memory_order_relaxed);
  }
  return total;
}

std::int64_t percpu_counter_sum_positive(percpu_counter* fbc) {
  return std::max<std::int64_t>(percpu_counter_sum(fbc), 0);
}

int __percpu_counter_compare(percpu_counter* fbc, std::int64_t rhs, std::int32_t batch) {
  std::int64_t rough = percpu_counter_read(fbc);
  std::int64_t slack = static_cast<std::int64_t>(batch) * num_possible_cpus();
  if (rough - rhs > slack) return 1;
  if (rhs - rough > slack) return -1;
  std::int64_t exact = percpu_counter_sum(fbc);
  return exact > rhs ? 1 : (exact < rhs ? -1 : 0);
}

}  // namespace lockdep::mm

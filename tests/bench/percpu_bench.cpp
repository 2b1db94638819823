// The per-CPU allocator and percpu_counter. The counter is why per-CPU allocators exist: adds
// from several threads touch only their own CPU's slot, where a shared std::atomic bounces one
// cache line between cores. Both are measured in the same run.
#include <benchmark/benchmark.h>

#include <atomic>
#include <vector>

#include "fastest_run.hpp"
#include "lockdep/mm/percpu.hpp"
#include "lockdep/mm/percpu_counter.hpp"

namespace {

using namespace lockdep::mm;

void alloc_free_percpu(benchmark::State& state) {
  for (auto _ : state) {
    void* ptr = __alloc_percpu(static_cast<std::size_t>(state.range(0)), 8);
    benchmark::DoNotOptimize(ptr);
    free_percpu(ptr);
  }
}
BENCHMARK(alloc_free_percpu)->Arg(8)->Arg(256)
    ->ComputeStatistics("min", lockdep_bench::fastest);

void alloc_free_percpu_atomic(benchmark::State& state) {
  for (auto _ : state) {
    void* ptr = __alloc_percpu_gfp(8, 8, GFP_NOWAIT);
    benchmark::DoNotOptimize(ptr);
    free_percpu(ptr);
  }
}
BENCHMARK(alloc_free_percpu_atomic)
    ->ComputeStatistics("min", lockdep_bench::fastest);

percpu_counter shared_counter;
std::atomic<long> shared_atomic{0};

void percpu_counter_add_bench(benchmark::State& state) {
  if (state.thread_index() == 0) percpu_counter_init(&shared_counter, 0, GFP_KERNEL);
  for (auto _ : state) percpu_counter_add(&shared_counter, 1);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) percpu_counter_destroy(&shared_counter);
}
BENCHMARK(percpu_counter_add_bench)->Threads(1)->Threads(2)->UseRealTime()
    ->ComputeStatistics("min", lockdep_bench::fastest);

// The same adds with an explicit batch (percpu_counter_add_batch), as the kernel's hot counters
// choose one: a fold every `batch` adds moves the shared total's cache line between CPUs, and
// with the default batch of 32 on a 2-CPU machine that move costs as much as the adds between.
percpu_counter batched_counter;

void percpu_counter_add_batch_bench(benchmark::State& state) {
  if (state.thread_index() == 0) percpu_counter_init(&batched_counter, 0, GFP_KERNEL);
  auto batch = static_cast<std::int32_t>(state.range(0));
  for (auto _ : state) percpu_counter_add_batch(&batched_counter, 1, batch);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) percpu_counter_destroy(&batched_counter);
}
BENCHMARK(percpu_counter_add_batch_bench)
    ->Arg(64)
    ->Arg(128)
    ->Arg(256)
    ->Arg(4096)
    ->Threads(2)
    ->UseRealTime()
    ->ComputeStatistics("min", lockdep_bench::fastest);

void atomic_fetch_add_bench(benchmark::State& state) {
  for (auto _ : state) shared_atomic.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(atomic_fetch_add_bench)->Threads(1)->Threads(2)->UseRealTime()
    ->ComputeStatistics("min", lockdep_bench::fastest);

// What one fold costs at least: the shared line moving from one core to the other. Two threads
// take turns writing one word; items_per_second is handoffs per second.
alignas(64) std::atomic<long> turn{0};

void cache_line_handoff(benchmark::State& state) {
  if (state.thread_index() == 0) turn.store(0, std::memory_order_relaxed);
  long mine = state.thread_index();  // thread 0 writes on even turns, thread 1 on odd ones
  for (auto _ : state) {
    while (turn.load(std::memory_order_acquire) != mine) {
    }
    turn.store(mine + 1, std::memory_order_release);
    mine += 2;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(cache_line_handoff)->Threads(2)->UseRealTime()
    ->ComputeStatistics("min", lockdep_bench::fastest);

}  // namespace

BENCHMARK_MAIN();

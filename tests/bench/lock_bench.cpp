// lockdep::mutex against std::mutex, measured in the same run: a nested pair A -> B on one
// thread after the chain has been validated once (the steady state every program reaches), two
// threads on disjoint pairs, and 1000 mutexes locked 8 deep in a sliding window (steady state,
// and the first pass, which validates 7,944 new chains and records about 1,000 dependencies).
#include <benchmark/benchmark.h>

#include <array>
#include <memory>
#include <mutex>

#include "fastest_run.hpp"
#include "lockdep/mutex.hpp"
#include "lockdep/testing.hpp"

namespace {

template <class Mutex>
void nested_pair(benchmark::State& state) {
  static Mutex outer;
  static Mutex inner;
  for (auto _ : state) {
    outer.lock();
    inner.lock();
    inner.unlock();
    outer.unlock();
  }
  state.SetItemsProcessed(state.iterations() * 2);  // two lock+unlock pairs per iteration
}

template <class Mutex>
void single_lock(benchmark::State& state) {
  static Mutex only;
  for (auto _ : state) {
    only.lock();
    only.unlock();
  }
  state.SetItemsProcessed(state.iterations());
}

// Each thread its own pair: nothing shared, so no cache line should move between cores.
template <class Mutex>
struct alignas(64) padded {
  Mutex lock;  // one per cache line: the threads must not share one by accident
};

template <class Mutex>
void disjoint_pairs(benchmark::State& state) {
  static std::array<padded<Mutex>, 4> locks;
  Mutex& outer = locks[2 * state.thread_index()].lock;
  Mutex& inner = locks[2 * state.thread_index() + 1].lock;
  for (auto _ : state) {
    outer.lock();
    inner.lock();
    inner.unlock();
    outer.unlock();
  }
  state.SetItemsProcessed(state.iterations() * 2);
}

constexpr int window_locks = 1000;
constexpr int window_depth = 8;

template <class Mutex>
void slide_window(std::array<Mutex, window_locks>& locks) {
  for (int start = 0; start + window_depth <= window_locks; ++start) {
    for (int i = start; i < start + window_depth; ++i) locks[i].lock();
    for (int i = start + window_depth; i-- > start;) locks[i].unlock();
  }
}

template <class Mutex>
void sliding_window(benchmark::State& state) {
  static auto* locks = new std::array<Mutex, window_locks>;
  slide_window(*locks);  // learn the order once: the loop below is the steady state
  for (auto _ : state) slide_window(*locks);
  state.SetItemsProcessed(state.iterations() * (window_locks - window_depth + 1) * window_depth);
}

// Every pass on a validator that has forgotten everything: each window is a new chain.
void sliding_window_first_pass(benchmark::State& state) {
  auto locks = std::make_unique<std::array<lockdep::mutex, window_locks>>();
  for (auto _ : state) {
    state.PauseTiming();
    lockdep::testing::reset();
    state.ResumeTiming();
    slide_window(*locks);
  }
  state.SetItemsProcessed(state.iterations() * (window_locks - window_depth + 1) * window_depth);
}

BENCHMARK(single_lock<std::mutex>)
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(single_lock<lockdep::mutex>)
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(nested_pair<std::mutex>)
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(nested_pair<lockdep::mutex>)
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(disjoint_pairs<std::mutex>)->Threads(2)->UseRealTime()
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(disjoint_pairs<lockdep::mutex>)->Threads(2)->UseRealTime()
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(sliding_window<std::mutex>)
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(sliding_window<lockdep::mutex>)
    ->ComputeStatistics("min", lockdep_bench::fastest);
BENCHMARK(sliding_window_first_pass)->Iterations(5)->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", lockdep_bench::fastest);

}  // namespace

BENCHMARK_MAIN();

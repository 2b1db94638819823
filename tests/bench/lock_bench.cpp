// lockdep::mutex against std::mutex, measured in the same run: a nested pair A -> B on one
// thread, after the chain has been validated once (the steady state every program reaches).
#include <benchmark/benchmark.h>

#include <mutex>

#include "lockdep/mutex.hpp"

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

BENCHMARK(single_lock<std::mutex>);
BENCHMARK(single_lock<lockdep::mutex>);
BENCHMARK(nested_pair<std::mutex>);
BENCHMARK(nested_pair<lockdep::mutex>);

}  // namespace

BENCHMARK_MAIN();

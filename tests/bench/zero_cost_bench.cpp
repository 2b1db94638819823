// With LOCKDEP_ENABLED=0 the lock types must cost what the standard ones cost: both measured
// in the same run.
#include <benchmark/benchmark.h>

#include <mutex>
#include <shared_mutex>

#include "lockdep/lockdep.hpp"

static_assert(LOCKDEP_ENABLED == 0);

namespace {

template <class Mutex>
void lock_unlock(benchmark::State& state) {
  static Mutex lock;
  for (auto _ : state) {
    lock.lock();
    lock.unlock();
  }
}

template <class Mutex>
void lock_unlock_shared(benchmark::State& state) {
  static Mutex lock;
  for (auto _ : state) {
    lock.lock_shared();
    lock.unlock_shared();
  }
}

BENCHMARK(lock_unlock<std::mutex>);
BENCHMARK(lock_unlock<lockdep::mutex>);
BENCHMARK(lock_unlock<std::shared_mutex>);
BENCHMARK(lock_unlock<lockdep::shared_mutex>);
BENCHMARK(lock_unlock_shared<std::shared_mutex>);
BENCHMARK(lock_unlock_shared<lockdep::shared_mutex>);

}  // namespace

BENCHMARK_MAIN();

// The validator at graph scale: 10,000 classes and 100,000 dependencies (a random DAG, so no
// report), then the cost of validating one more new dependency: the chain-cache miss, the
// breadth-first search for a path back, the stack capture and the insertion. Reports the
// median and p99 over many new edges, and the memory per class and per dependency.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "lock_class.hpp"
#include "lockdep/lock_map.hpp"
#include "lockdep/testing.hpp"
#include "lockdep/validator.hpp"

namespace {

constexpr int classes = 10000;
constexpr int dependencies = 100000;

void add_dependency(lockdep::lock_map& from, lockdep::lock_map& to) {
  lockdep::lock_acquire(from, {}, LOCKDEP_RET_IP);
  lockdep::lock_acquire(to, {}, LOCKDEP_RET_IP);
  lockdep::lock_release(to, LOCKDEP_RET_IP);
  lockdep::lock_release(from, LOCKDEP_RET_IP);
}

void new_dependency_at_scale(benchmark::State& state) {
  lockdep::options big = lockdep::current_options();
  big.max_classes = classes + 16;
  big.max_dependencies = dependencies * 2;
  big.max_chains = dependencies * 4;
  big.max_chain_hlocks = dependencies * 12;
  big.max_stack_entries = 1 << 22;
  lockdep::testing::report_capture capture(big);

  std::vector<std::unique_ptr<lockdep::lock_map>> locks;
  for (int i = 0; i < classes; ++i) locks.push_back(std::make_unique<lockdep::lock_map>("scale"));
  std::mt19937 random(42);
  std::uniform_int_distribution<int> pick(0, classes - 1);
  auto random_forward_pair = [&] {
    int a = pick(random), b = pick(random);
    while (a == b) b = pick(random);
    return std::make_pair(std::min(a, b), std::max(a, b));  // low --> high: never a cycle
  };
  for (int i = 0; i < dependencies; ++i) {
    auto [from, to] = random_forward_pair();
    add_dependency(*locks[from], *locks[to]);
  }

  std::vector<double> microseconds;
  for (auto _ : state) {
    auto [from, to] = random_forward_pair();
    auto start = std::chrono::steady_clock::now();
    add_dependency(*locks[from], *locks[to]);
    microseconds.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(microseconds.begin(), microseconds.end());
  state.counters["median_us"] = microseconds[microseconds.size() / 2];
  state.counters["p99_us"] = microseconds[microseconds.size() * 99 / 100];
  state.counters["reports"] = static_cast<double>(capture.count());
  // Per class: the class record and its entry in the fast path's identity mirror; per
  // dependency: one entry in each direction (the trace is shared and deduplicated in the stack
  // store).
  state.counters["bytes_per_class"] =
      sizeof(lockdep::detail::lock_class) + sizeof(std::atomic<const void*>);
  state.counters["bytes_per_dependency"] = 2 * sizeof(lockdep::detail::dependency);
}
BENCHMARK(new_dependency_at_scale)->Iterations(2000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

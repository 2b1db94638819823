// What watching frees costs under lockdep-run (liblockdep_free_watch.so), with Google Benchmark:
// a plain program, built once and run plain, under lockdep-run with watch_frees=0 and with the
// watch, and built again with ThreadSanitizer (compare_peers.sh does all of it in one run).
//
//   new_delete/64 and malloc_free/64: memory without locks, the common free: what the watch adds
//     to every free of a program (a page lookup and malloc_usable_size, or the size given).
//   request_objects: a server's per-request object owning a std::mutex, taken under one
//     long-lived std::mutex, then deleted. With the watch every object's lock is a new class
//     (its predecessor at that address was forgotten), so the validator's first pass over a new
//     lock (class, chain and dependency insertion, a stack capture) is the steady state; without
//     it the class of the first object at each address is reused, wrongly.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <mutex>

namespace {

template <std::size_t bytes>
struct block {
  char data[bytes];
};

void new_delete(benchmark::State& state) {
  for (auto _ : state) {
    auto* allocated = new block<64>;
    benchmark::DoNotOptimize(allocated);
    delete allocated;
  }
}
BENCHMARK(new_delete)->Name("new_delete/64");

void malloc_free(benchmark::State& state) {
  for (auto _ : state) {
    void* allocated = std::malloc(64);
    benchmark::DoNotOptimize(allocated);
    std::free(allocated);
  }
}
BENCHMARK(malloc_free)->Name("malloc_free/64");

std::mutex long_lived;

struct request {
  std::mutex lock;
  long served = 0;
};

void request_objects(benchmark::State& state) {
  for (auto _ : state) {
    auto* current = new request;
    {
      std::lock_guard outer(long_lived);
      std::lock_guard inner(current->lock);
      ++current->served;
    }
    benchmark::DoNotOptimize(current->served);
    delete current;
  }
}
// One million objects, once: the first pass over each new lock is what is measured.
BENCHMARK(request_objects)->Iterations(1000000)->Repetitions(1);

}  // namespace

BENCHMARK_MAIN();

// The rseq per-CPU primitives: used when glibc registered rseq, and exact per CPU.
#include <catch2/catch.hpp>

#include <sys/rseq.h>

#include <cstdint>

#include "lockdep/mm/rseq_percpu.hpp"

// Qualified: <sys/rseq.h> declares a struct rseq of its own.
namespace mm = lockdep::mm;

TEST_CASE("rseq gives the current CPU when glibc registered it", "[rseq]") {
  if (__rseq_size == 0) {
    CHECK(mm::rseq::current_cpu() == -1);
    return;
  }
  int cpu = mm::rseq::current_cpu();
  CHECK(cpu >= 0);
}

TEST_CASE("add_on_cpu and take_on_cpu commit only on the named CPU", "[rseq]") {
  if (__rseq_size == 0) return;
  std::int32_t slot = 10;
  int cpu = -1;
  // Retry until a sequence runs without preemption between reading the CPU and committing.
  do {
    cpu = mm::rseq::current_cpu();
  } while (!mm::rseq::add_on_cpu(&slot, 5, cpu));
  CHECK(slot == 15);
  CHECK_FALSE(mm::rseq::add_on_cpu(&slot, 5, cpu + 100000));  // never that CPU: aborted
  CHECK(slot == 15);
  std::int32_t taken = 0;
  do {
    cpu = mm::rseq::current_cpu();
  } while (!mm::rseq::take_on_cpu(&slot, cpu, &taken));
  CHECK(taken == 15);
  CHECK(slot == 0);
}

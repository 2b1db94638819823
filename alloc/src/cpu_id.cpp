// raw_smp_processor_id(): the CPU the calling thread runs on. glibc (2.35+) registers rseq for
// every thread, and the kernel keeps rseq's cpu_id current: reading it is one load, where
// sched_getcpu() may be a vDSO call. Fall back to sched_getcpu() when rseq is not registered.
#include <sched.h>
#include <sys/rseq.h>

#include "lockdep/mm/percpu.hpp"

namespace lockdep::mm {

int raw_smp_processor_id() {
  int cpu = -1;
  if (__rseq_size > 0) {
    auto* area = reinterpret_cast<const volatile struct rseq*>(
        static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset);
    cpu = static_cast<int>(area->cpu_id);
  }
  if (cpu < 0) cpu = sched_getcpu();
  if (cpu < 0) cpu = 0;
  int units = num_possible_cpus();
  return cpu < units ? cpu : cpu % units;
}

}  // namespace lockdep::mm

#include "thread_identity.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace lockdep::detail {

thread_identity current_thread_identity() {
  char comm[17] = {};
  if (prctl(PR_GET_NAME, comm, 0, 0, 0) != 0) comm[0] = '\0';
  return {comm, static_cast<long>(gettid())};
}

int current_cpu() {
  int cpu = sched_getcpu();
  return cpu < 0 ? 0 : cpu;
}

}  // namespace lockdep::detail

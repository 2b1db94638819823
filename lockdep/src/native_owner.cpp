#include "native_owner.hpp"

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

namespace lockdep::detail {
namespace {

thread_local pid_t cached_thread_id = 0;

void forget_thread_id_in_child() {
  cached_thread_id = 0;
}

pid_t calling_thread_id() {
  if (cached_thread_id == 0) [[unlikely]] {
    // Registered before the first id is cached: a fork before then has nothing to forget.
    static const bool registered =
        pthread_atfork(nullptr, nullptr, forget_thread_id_in_child) == 0;
    (void)registered;
    cached_thread_id = static_cast<pid_t>(syscall(SYS_gettid));
  }
  return cached_thread_id;
}

}  // namespace

bool caller_owns(const pthread_mutex_t& mutex) {
  return __atomic_load_n(&mutex.__data.__owner, __ATOMIC_RELAXED) == calling_thread_id();
}

}  // namespace lockdep::detail

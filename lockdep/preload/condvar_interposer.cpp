// pthread_cond_{wait,timedwait,clockwait}: a wait releases its mutex while it sleeps and takes
// it back before returning (std::condition_variable and _any reach these too). The validator
// sees the same: the mutex is released before the real wait (a thread waiting on a condition
// holds nothing), and acquired again, validated as a blocking lock, when the wait returns,
// whether signalled, timed out, or unwound by thread cancellation (glibc re-locks the mutex
// before running cancellation handlers, which usually unlock it).
//
// A recursive mutex locked more than once stays locked across glibc's wait, so nothing is
// annotated for it. A wait on a mutex the thread does not hold is reported (bad unlock balance).
#include <pthread.h>
#include <unistd.h>

#include "lock_annotations.hpp"
#include "lockdep/validator.hpp"
#include "real_functions.hpp"
#include "reentrancy_guard.hpp"

namespace lockdep::preload {
namespace {

// A glibc wait fully releases the mutex unless it is recursive and held more than once.
bool wait_releases(const pthread_mutex_t* mutex) {
  bool recursive =
      (__atomic_load_n(&mutex->__data.__kind, __ATOMIC_RELAXED) & 3) == PTHREAD_MUTEX_RECURSIVE_NP;
  return !recursive || __atomic_load_n(&mutex->__data.__count, __ATOMIC_RELAXED) <= 1;
}

// Releases the mutex for the validator on construction, re-acquires it on destruction (also on
// a cancellation unwind). Not copyable or movable.
class released_while_waiting {
 public:
  released_while_waiting(pthread_mutex_t* mutex, const void* ip) : ip_(ip) {
    if (!wait_releases(mutex)) return;
    map_ = map_for(mutex);
    if (map_ != nullptr && !annotate_release(*map_, ip_)) map_ = nullptr;
  }
  ~released_while_waiting() {
    if (map_ != nullptr && !forward_only()) {
      annotate_acquire(*map_, lock_access::exclusive, false, ip_);
    }
  }
  released_while_waiting(const released_while_waiting&) = delete;
  released_while_waiting& operator=(const released_while_waiting&) = delete;

 private:
  lock_map* map_ = nullptr;
  const void* ip_;
};

}  // namespace
}  // namespace lockdep::preload

using namespace lockdep::preload;

extern "C" {

LOCKDEP_PRELOAD_EXPORT int pthread_cond_wait(pthread_cond_t* condition, pthread_mutex_t* mutex) {
  if (forward_only()) return real().cond_wait(condition, mutex);
  released_while_waiting waiting(mutex, LOCKDEP_RET_IP);
  return real().cond_wait(condition, mutex);
}

LOCKDEP_PRELOAD_EXPORT int pthread_cond_timedwait(pthread_cond_t* condition, pthread_mutex_t* mutex,
                                                  const struct timespec* deadline) {
  if (forward_only()) return real().cond_timedwait(condition, mutex, deadline);
  released_while_waiting waiting(mutex, LOCKDEP_RET_IP);
  return real().cond_timedwait(condition, mutex, deadline);
}

LOCKDEP_PRELOAD_EXPORT int pthread_cond_clockwait(pthread_cond_t* condition, pthread_mutex_t* mutex,
                                                  clockid_t clock,
                                                  const struct timespec* deadline) {
  if (forward_only()) return real().cond_clockwait(condition, mutex, clock, deadline);
  released_while_waiting waiting(mutex, LOCKDEP_RET_IP);
  return real().cond_clockwait(condition, mutex, clock, deadline);
}

}  // extern "C"

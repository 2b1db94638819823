// The hang watchdog (LOCKDEP_OPTIONS hang_timeout=N): when a thread has waited on an
// instrumented lock for more than N seconds, it reports the kernel's hung-task splat for it and
// `Showing all locks held in the system:`, with every waiting thread's held locks, the last of
// them the lock it waits for.
//
// How: with the watchdog on, each thread that locks gets a waiting_record, registered while it
// lives. A lock type whose real lock is contended (try_lock failed) opens a waiting_scope before
// blocking: it copies the thread's held locks and stack into the record under the record's own
// lock, so the watchdog thread never reads another thread's held-lock stack while it changes.
// While the watchdog is off, a lock pays one load of a read-mostly flag; while it is on, an
// uncontended lock pays a try_lock.
// Threads that are not waiting are listed by how many locks they hold only, as the kernel lists
// a running task: which locks changes as it would be read.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <vector>

#include "fast_path_view.hpp"
#include "held_lock_stack.hpp"

namespace lockdep::detail {

// One thread's published waiting state. Everything is guarded by `lock` (a plain std::mutex:
// the validator's own locking is never validated).
struct waiting_record {
  std::mutex lock;
  long tid = 0;
  // The thread's own state, for its depth while it runs (the record lives as long as it).
  const thread_lock_state* state = nullptr;
  bool waiting = false;
  double since = 0;                   // seconds since process start (seconds_since_start)
  bool reported = false;              // this wait was reported already
  std::vector<held_lock> held;        // the thread's held locks when it began to wait
  std::vector<std::uintptr_t> stack;  // where it waits, innermost first
};

// Whether a hang timeout is set; read by every blocking lock call, so inline, and kept in the
// fast path's view (it changes only with the options).
inline bool hang_watchdog_on() {
  return fast_view.hang_watchdog_armed.load(std::memory_order_relaxed);
}

// Registers the calling thread's record if the watchdog is on; called once per thread when its
// lock state is first set up. unregister at thread exit.
void register_waiting_record(thread_lock_state& state);
void unregister_waiting_record(thread_lock_state& state);

// Publishes "this thread waits" for its lifetime; a no-op for threads without a record.
// Open it after the acquisition was recorded (the waited-for lock is then the top held lock)
// and only when the lock is contended. Not copyable or movable.
class waiting_scope {
 public:
  // `ip`: where the lock function was called from (its LOCKDEP_RET_IP); the published stack
  // starts at the lock function, as report backtraces do.
  explicit waiting_scope(const void* ip);
  ~waiting_scope();
  waiting_scope(const waiting_scope&) = delete;
  waiting_scope& operator=(const waiting_scope&) = delete;

 private:
  waiting_record* record_;
};

// The watchdog's way to take a lock: try first, and publish the wait only if it must block.
template <class RealLock>
[[gnu::noinline]] void lock_published_as_waiting(RealLock& real, const void* ip) {
  if (real.try_lock()) return;
  waiting_scope waiting(ip);
  real.lock();
}

// Takes `real` (a Lockable) for the lock function called from `ip`, publishing the wait if the
// watchdog is on and the lock has to block. Inline: every blocking lock call goes through it.
template <class RealLock>
[[gnu::always_inline]] inline void lock_watching_for_hangs(RealLock&& real, const void* ip) {
  // Without the watchdog, the plain lock: glibc's trylock costs more than its lock.
  if (hang_watchdog_on()) [[unlikely]] {
    lock_published_as_waiting(real, ip);
    return;
  }
  real.lock();
}

// The same for a pthread lock (the LD_PRELOAD interposers): `try_lock()` and `lock()` return 0
// or an error number, EBUSY from try_lock meaning the lock would block.
template <class TryLock, class Lock>
[[gnu::always_inline]] inline int lock_pthread_watching_for_hangs(TryLock try_lock, Lock lock,
                                                                  const void* ip) {
  if (!hang_watchdog_on()) [[likely]]
    return lock();
  int tried = try_lock();
  if (tried != EBUSY) return tried;
  waiting_scope waiting(ip);
  return lock();
}

// The timeout from the options in force (0: off); called whenever the tables are (re)built.
void set_hang_timeout(double timeout_seconds);
// Starts the watchdog thread if a timeout is set and it is not running yet. Not called while
// the validator creates itself or holds its graph lock: the new thread may use the validator
// as soon as it runs.
void start_hang_watchdog_if_set();

// fork(): the registry's lock is held across it (see lock_for_fork).
void lock_waiting_registry_for_fork();
void unlock_waiting_registry_after_fork();
// In a fork child, with the registry locked: forgets the other threads' records, and lets the
// child's first wait start a watchdog of its own.
void forget_other_threads_waits_in_child();

}  // namespace lockdep::detail

#include "thread_lifecycle.hpp"

#include <pthread.h>

#include "callsite_keys.hpp"
#include "internal_heap.hpp"
#include "lock_table.hpp"
#include "reentrancy_guard.hpp"
#include "report_marker.hpp"
#include "validator_core.hpp"

namespace lockdep::preload {
namespace {

// Runs last among the prepare handlers (they run in reverse order of registration and ours is
// registered first), so the program's own handlers have taken their locks, validated, already.
void before_fork() {
  // Stays inside lockdep until the parent or child handler: the graph lock's own pthread calls,
  // and any the C library makes while forking, must not be validated.
  ++inside_lockdep_depth;
  lock_callsite_keys_for_fork();
  locks().lock_all_for_fork();
  // The validator's own locks are taken next, by its handler (registered before ours).
}

void release_after_fork() {
  locks().unlock_all_after_fork();
  unlock_callsite_keys_after_fork();
}

void after_fork_in_parent() {
  release_after_fork();
  --inside_lockdep_depth;
}

void after_fork_in_child() {
  // The child's forking thread is the thread that took every lock above, so it may release them.
  release_after_fork();
  report_marker_after_fork_child();
  --inside_lockdep_depth;
}

}  // namespace

void register_fork_handlers() {
  // The heap is taken by the validator's handler, after its own locks.
  detail::fork_heap_lock = {lock_internal_heap_for_fork, unlock_internal_heap_after_fork};
  // The validator's handlers first: prepare handlers run in reverse order, so ours take the
  // tables before the validator's locks, the order in which the interposers nest them.
  detail::register_fork_handlers_once();
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

}  // namespace lockdep::preload

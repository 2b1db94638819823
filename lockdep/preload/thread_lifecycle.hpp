// Threads and processes: what the preload does around thread exit and fork().
//
// Thread exit needs no interposer: the validator registers a thread_local exit check on a
// thread's first lock, and glibc runs thread_local destructors both when a thread function
// returns and when it calls pthread_exit() (and for the main thread, in exit()). A thread that
// still holds locks then gets `WARNING: comm/tid still has locks held!`.
//
// fork(): the child is a copy of the forking thread only. The handlers hold the preload's tables
// (lock_table shards and pool, call-site keys) and the validator's graph lock across fork(), so
// none is copied in the middle of an update by another thread and left locked forever in the
// child. The child's validator keeps what the parent learnt (classes, dependencies, chains) and
// the forking thread's held locks; other threads' held-lock stacks simply stop existing, as
// those threads do.
//
// Not covered yet (the validator is not fork-safe on its own): a fork while another thread is
// printing a report (spdlog's sink mutex, libunwind's caches) can leave those locked in the
// child, which then hangs at its first report.
//
// Thread-safety: register_fork_handlers() once, from the preload's constructor.
#pragma once

namespace lockdep::preload {

void register_fork_handlers();

}  // namespace lockdep::preload

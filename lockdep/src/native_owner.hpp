// Whether the calling thread owns a glibc mutex, by glibc's own record.
//
// glibc writes the owner's kernel thread id into a mutex's __data.__owner after every lock, of
// every mutex type, and clears it on unlock. lockdep::mutex and lockdep::timed_mutex use that
// record instead of keeping an owner of their own, so that their fast paths write nothing but
// the held-lock stack and can end in a tail call to the real lock. It decides only when the
// validator cannot: the thread is not tracked (validation off, the thread ignored) or the
// validator saw no acquisition, and then an unlock by a thread that does not own the mutex
// never reaches it.
//
// Thread-safety: the calling thread's own id, cached per thread (and forgotten in a child after
// fork(), whose thread has a new id; a mutex the parent's thread held is then not the child's,
// as glibc's error-checking mutexes also say).
#pragma once

#include <pthread.h>

namespace lockdep::detail {

bool caller_owns(const pthread_mutex_t& mutex);

}  // namespace lockdep::detail

// The kernel's lock primitives under their own names (mutex_lock, down_read, spin_lock, ...),
// over the instrumented lockdep types, so that reports read like the kernel's: each passes its
// caller's address (the kernel's _RET_IP_) as the acquisition site, and mutex_lock() is inline
// over __mutex_lock(), so a trace shows `__mutex_lock` right above the caller. Used by the
// allocator (pcpu_alloc takes pcpu_alloc_mutex with mutex_lock_killable) and by simulated
// kernel code.
#pragma once

#include "lockdep/mutex.hpp"
#include "lockdep/shared_mutex.hpp"
#include "lockdep/spinlock.hpp"

extern "C" {
void __mutex_lock(lockdep::mutex* lock);  // mutex_lock() and mutex_lock_killable() call it
void mutex_unlock(lockdep::mutex* lock);
void down_read(lockdep::shared_mutex* sem);
int down_read_trylock(lockdep::shared_mutex* sem);
void up_read(lockdep::shared_mutex* sem);
void down_write(lockdep::shared_mutex* sem);
void up_write(lockdep::shared_mutex* sem);
void spin_lock(lockdep::spinlock* lock);
void spin_unlock(lockdep::spinlock* lock);
}

[[gnu::always_inline]] inline void mutex_lock(lockdep::mutex* lock) {
  __mutex_lock(lock);
}
// Never interrupted in this model (no fatal signals): always 0.
[[gnu::always_inline]] inline int mutex_lock_killable(lockdep::mutex* lock) {
  __mutex_lock(lock);
  return 0;
}

// The kernel's lock primitives under their own names (mutex_lock, down_read, spin_lock, ...),
// each one frame over the instrumented lockdep type, so that stack traces read like the
// kernel's: `__mutex_lock` under `mutex_lock`, `down_write` under its caller. Used by the
// allocator (pcpu_alloc takes pcpu_alloc_mutex with mutex_lock_killable) and by simulated
// kernel code.
#pragma once

#include "lockdep/mutex.hpp"
#include "lockdep/shared_mutex.hpp"
#include "lockdep/spinlock.hpp"

extern "C" {
void __mutex_lock(lockdep::mutex* lock);  // the slow path the others go through
void mutex_lock(lockdep::mutex* lock);
// Never interrupted in this model (no fatal signals): always 0.
int mutex_lock_killable(lockdep::mutex* lock);
void mutex_unlock(lockdep::mutex* lock);
void down_read(lockdep::shared_mutex* sem);
int down_read_trylock(lockdep::shared_mutex* sem);
void up_read(lockdep::shared_mutex* sem);
void down_write(lockdep::shared_mutex* sem);
void up_write(lockdep::shared_mutex* sem);
void spin_lock(lockdep::spinlock* lock);
void spin_unlock(lockdep::spinlock* lock);
}

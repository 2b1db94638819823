// The kernel's lock primitives under their own names (mutex_lock, down_read, ...), so that the
// reproducer's stack traces read like the seed's. Defined in the executable (kernel core);
// btrfs.so calls them. Each is one frame wrapping the instrumented lockdep type.
#pragma once

#include "lockdep/mutex.hpp"
#include "lockdep/shared_mutex.hpp"

extern "C" {
void mutex_lock(lockdep::mutex* lock);
void mutex_unlock(lockdep::mutex* lock);
void down_read(lockdep::shared_mutex* sem);
int down_read_trylock(lockdep::shared_mutex* sem);
void up_read(lockdep::shared_mutex* sem);
void down_write(lockdep::shared_mutex* sem);
void up_write(lockdep::shared_mutex* sem);
}

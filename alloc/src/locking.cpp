#include "lockdep/mm/locking.hpp"

#include "lockdep/validator.hpp"

// Each wrapper keeps its frame: no inlining, no tail call.
#define KEEP_FRAME() asm volatile("" ::: "memory")

extern "C" {

[[gnu::noinline]] void __mutex_lock(lockdep::mutex* lock) {
  lock->lock_from(LOCKDEP_RET_IP);
  KEEP_FRAME();
}

[[gnu::noinline]] void mutex_unlock(lockdep::mutex* lock) {
  lock->unlock();
  KEEP_FRAME();
}

[[gnu::noinline]] void down_read(lockdep::shared_mutex* sem) {
  sem->lock_shared_from(LOCKDEP_RET_IP);
  KEEP_FRAME();
}

[[gnu::noinline]] int down_read_trylock(lockdep::shared_mutex* sem) {
  int taken = sem->try_lock_shared_from(LOCKDEP_RET_IP) ? 1 : 0;
  KEEP_FRAME();
  return taken;
}

[[gnu::noinline]] void up_read(lockdep::shared_mutex* sem) {
  sem->unlock_shared();
  KEEP_FRAME();
}

[[gnu::noinline]] void down_write(lockdep::shared_mutex* sem) {
  sem->lock_from(LOCKDEP_RET_IP);
  KEEP_FRAME();
}

[[gnu::noinline]] void up_write(lockdep::shared_mutex* sem) {
  sem->unlock();
  KEEP_FRAME();
}

[[gnu::noinline]] void spin_lock(lockdep::spinlock* lock) {
  lock->lock_from(LOCKDEP_RET_IP);
  KEEP_FRAME();
}

[[gnu::noinline]] void spin_unlock(lockdep::spinlock* lock) {
  lock->unlock();
  KEEP_FRAME();
}

}  // extern "C"

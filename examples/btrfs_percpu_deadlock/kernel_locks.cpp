#include "kernel_locks.hpp"

extern "C" {

[[gnu::noinline]] void mutex_lock(lockdep::mutex* lock) {
  lock->lock();
}
[[gnu::noinline]] void mutex_unlock(lockdep::mutex* lock) {
  lock->unlock();
}
[[gnu::noinline]] void down_read(lockdep::shared_mutex* sem) {
  sem->lock_shared();
}
[[gnu::noinline]] int down_read_trylock(lockdep::shared_mutex* sem) {
  return sem->try_lock_shared() ? 1 : 0;
}
[[gnu::noinline]] void up_read(lockdep::shared_mutex* sem) {
  sem->unlock_shared();
}
[[gnu::noinline]] void down_write(lockdep::shared_mutex* sem) {
  sem->lock();
}
[[gnu::noinline]] void up_write(lockdep::shared_mutex* sem) {
  sem->unlock();
}
}

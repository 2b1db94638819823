// Must compile cleanly under clang -Wthread-safety -Werror: correct locking of guarded data.
#include "lockdep/guard.hpp"
#include "lockdep/lockdep.hpp"

struct account {
  lockdep::mutex lock;
  long balance __attribute__((guarded_by(lock))) = 0;
  lockdep::shared_mutex rates_lock;
  long rate __attribute__((guarded_by(rates_lock))) = 0;
};

void deposit(account& a, long amount) {
  lockdep::guard held(a.lock);
  a.balance += amount;
}

long read_rate(account& a) {
  a.rates_lock.lock_shared();
  long rate = a.rate;
  a.rates_lock.unlock_shared();
  return rate;
}

void withdraw(account& a, long amount) {
  a.lock.lock();
  a.balance -= amount;
  a.lock.unlock();
}

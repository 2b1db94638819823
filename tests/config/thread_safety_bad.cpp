// Must FAIL under clang -Wthread-safety -Werror: guarded data written without its lock.
#include "lockdep/lockdep.hpp"

struct account {
  lockdep::mutex lock;
  long balance __attribute__((guarded_by(lock))) = 0;
};

void deposit(account& a, long amount) {
  a.balance += amount;
}

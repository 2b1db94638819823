// A two-thread ABBA inversion on two lock classes, found without the threads ever deadlocking:
// the first thread records a --> b, the second, later, tries b --> a.
#include <pthread.h>

#include <mutex>
#include <thread>

#include "lockdep/lockdep.hpp"

namespace {

struct account {
  lockdep::mutex lock{LOCKDEP_CLASS("&account->lock")};
  long balance = 100;
};

struct ledger {
  lockdep::mutex lock{LOCKDEP_CLASS("&ledger->lock")};
  long entries = 0;
};

void post_transfer(account& from, ledger& book) {
  std::lock_guard account_guard(from.lock);
  std::lock_guard ledger_guard(book.lock);
  from.balance -= 10;
  book.entries++;
}

void audit(ledger& book, account& checked) {
  std::lock_guard ledger_guard(book.lock);
  std::lock_guard account_guard(checked.lock);
  book.entries += checked.balance > 0 ? 0 : 1;
}

}  // namespace

int main() {
  account savings;
  ledger book;
  std::thread teller([&] {
    pthread_setname_np(pthread_self(), "teller");
    post_transfer(savings, book);
  });
  teller.join();
  std::thread auditor([&] {
    pthread_setname_np(pthread_self(), "auditor");
    audit(book, savings);
  });
  auditor.join();
  return lockdep::report_count() == 0 ? 0 : 1;
}

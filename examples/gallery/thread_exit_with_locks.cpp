// A thread that exits holding a lock.
//
// The journal thread takes j_checkpoint_mutex and, on an I/O error, returns without dropping it;
// then the thread ends. Nobody can take the mutex again. When a thread that used lockdep locks
// ends, its held locks are checked (as the kernel's do_exit() calls debug_check_no_locks_held())
// and the report names the thread by comm/tid: "jbd2/sda1-8/<tid> still has locks held!".
//
// Exit status: 1 when a report was printed, else 0.
#include <pthread.h>

#include <cerrno>
#include <thread>

#include "lockdep/lockdep.hpp"

struct journal_t {
  lockdep::mutex j_checkpoint_mutex{LOCKDEP_CLASS("&journal->j_checkpoint_mutex")};
  long checkpoints = 0;
};

static int jbd2_log_do_checkpoint(journal_t& journal, bool io_error) {
  journal.j_checkpoint_mutex.lock();
  if (io_error) return -EIO;  // the bug: returns with j_checkpoint_mutex held
  ++journal.checkpoints;
  journal.j_checkpoint_mutex.unlock();
  return 0;
}

int main() {
  // Never freed: its mutex stays locked by a thread that is gone.
  auto* journal = new journal_t;
  std::thread jbd2([journal] {
    pthread_setname_np(pthread_self(), "jbd2/sda1-8");
    jbd2_log_do_checkpoint(*journal, false);
    jbd2_log_do_checkpoint(*journal, true);
  });  // reported as the thread ends
  jbd2.join();
  return lockdep::report_count() == 0 ? 0 : 1;
}

// Freeing a lock that is held.
//
// A session is reference counted, and session_close() drops the last reference with
// session->lock still held: the release frees the lock under its holder, as a kfree() of a
// locked object does in the kernel (caught there by debug_check_no_locks_freed()). Destroying a
// lockdep lock checks the calling thread's held locks and reports "held lock freed!" with the
// freed range and the lock. The unlock that would follow is a use after free; this path stops
// before it.
//
// A spinlock, as such object locks often are in the kernel: destroying a locked std::mutex would
// add undefined behaviour to the bug being shown.
//
// Exit status: 1 when a report was printed, else 0.
#include <pthread.h>

#include "lockdep/lockdep.hpp"

struct session {
  lockdep::spinlock lock{LOCKDEP_CLASS("&session->lock")};
  int refcount = 1;
  bool closed = false;
};

static void session_put(session* s) {
  if (--s->refcount == 0) delete s;
}

static void session_close(session* s) {
  s->lock.lock();
  s->closed = true;
  session_put(s);  // the last reference: frees s, and s->lock with it, while it is held
}

int main() {
  pthread_setname_np(pthread_self(), "sessiond");
  session_close(new session);
  return lockdep::report_count() == 0 ? 0 : 1;
}

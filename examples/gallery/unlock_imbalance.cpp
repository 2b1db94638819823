// Unlocking a lock that is not held: an error path that unlocks twice.
//
// widget_set_mode() drops priv->lock on its error path and then reaches the common exit, which
// drops it again. Unlocking a std::mutex that is not locked is undefined behaviour; a
// lockdep::mutex checks first, prints the kernel's "bad unlock balance" report naming the second
// unlock, and skips the real unlock. The program carries on with the mutex intact: the next call
// locks and unlocks it as usual.
//
// Exit status: 1 when a report was printed, else 0.
#include <pthread.h>

#include <cerrno>
#include <cstdio>

#include "lockdep/lockdep.hpp"

struct widget_priv {
  lockdep::mutex lock{LOCKDEP_CLASS("&priv->lock")};
  int mode = 0;
};

static int widget_set_mode(widget_priv& priv, int mode) {
  int ret = 0;
  priv.lock.lock();
  if (mode < 0) {
    ret = -EINVAL;
    priv.lock.unlock();  // the bug: the common exit below unlocks as well
  } else {
    priv.mode = mode;
  }
  priv.lock.unlock();  // reported on the error path, and skipped
  return ret;
}

int main() {
  pthread_setname_np(pthread_self(), "widgetctl");
  widget_priv priv;
  widget_set_mode(priv, 1);
  const int ret = widget_set_mode(priv, -1);
  widget_set_mode(priv, 2);  // the mutex still works
  std::printf("widget_set_mode(-1) returned %d; mode is now %d\n", ret, priv.mode);
  return lockdep::report_count() == 0 ? 0 : 1;
}

// AA: two locks of one class nested, and the annotation that says the nesting is intended.
//
// Every device's mutex is in one lock class, "&dev->mutex". Shutting a device down locks its
// parent first, then the device (as device_shutdown() does in drivers/base/core.c). To lockdep
// that is a class taken while it is already held, which is what locking one device twice looks
// like, so it reports "possible recursive locking". Parent before child is a fixed order, and
// the kernel says so with mutex_lock_nested(&dev->mutex, SINGLE_DEPTH_NESTING): the child is
// then subclass 1 ("&dev->mutex/1"), a class of its own, and nothing is reported.
//
//   gallery_recursive_locking              report, exit status 1
//   gallery_recursive_locking --annotated  no report, exit status 0
#include <pthread.h>

#include <string_view>

#include "lockdep/lockdep.hpp"

constexpr unsigned SINGLE_DEPTH_NESTING = 1;

struct device {
  lockdep::mutex mutex{LOCKDEP_CLASS("&dev->mutex")};
  device* parent = nullptr;
  bool shut_down = false;
};

static void device_shutdown(device& dev) {
  dev.parent->mutex.lock();
  dev.mutex.lock();  // the same class as the parent's: reported
  dev.shut_down = true;
  dev.mutex.unlock();
  dev.parent->mutex.unlock();
}

static void device_shutdown_annotated(device& dev) {
  dev.parent->mutex.lock();
  dev.mutex.lock_nested(SINGLE_DEPTH_NESTING);  // the child: subclass 1
  dev.shut_down = true;
  dev.mutex.unlock();
  dev.parent->mutex.unlock();
}

int main(int argc, char** argv) {
  const bool annotated = argc > 1 && std::string_view(argv[1]) == "--annotated";
  pthread_setname_np(pthread_self(), "reboot");
  device bus;
  device disk{.parent = &bus};
  if (annotated) {
    device_shutdown_annotated(disk);
  } else {
    device_shutdown(disk);
  }
  return lockdep::report_count() == 0 ? 0 : 1;
}

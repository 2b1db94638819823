// Reader/writer inversions, and why an rwlock_t's readers are different.
//
// Default: two rw_semaphores (lockdep::shared_mutex). The fault path reads mm->mmap_sem, then
// writes inode->i_rwsem; the remap ioctl reads i_rwsem, then writes mmap_sem. Run at once, each
// would hold one semaphore for read and wait to write the other, and a writer waits for every
// reader: deadlock. The threads run one after the other here; lockdep reports the cycle anyway,
// the read side shown as rlock() in the scenario.
//
// --recursive-read: two rwlock_t locks (lockdep::rwlock) read in both orders, as send_sigio()
// reads f_owner.lock then tasklist_lock. An rwlock_t's readers never wait for a writer that is
// only waiting, so a read-read cycle cannot deadlock, and lockdep stays silent. (With
// rw_semaphores it would be reported: there a queued writer blocks new readers.)
//
// Exit status: 1 when a report was printed, else 0.
#include <pthread.h>

#include <string_view>
#include <thread>

#include "lockdep/lockdep.hpp"

struct mm_struct {
  lockdep::shared_mutex mmap_sem{LOCKDEP_CLASS("&mm->mmap_sem")};
};

struct inode {
  lockdep::shared_mutex i_rwsem{LOCKDEP_CLASS("&inode->i_rwsem")};
  long i_size = 0;
};

static void fault_extends_file(mm_struct& mm, inode& file) {
  mm.mmap_sem.lock_shared();  // down_read
  file.i_rwsem.lock();        // down_write
  file.i_size += 4096;
  file.i_rwsem.unlock();
  mm.mmap_sem.unlock_shared();
}

static void remap_ioctl(inode& file, mm_struct& mm) {
  file.i_rwsem.lock_shared();
  mm.mmap_sem.lock();  // reported: i_rwsem (read) --> mmap_sem (write) closes the cycle
  mm.mmap_sem.unlock();
  file.i_rwsem.unlock_shared();
}

static lockdep::rwlock tasklist_lock{"tasklist_lock"};

struct fown_struct {
  lockdep::rwlock lock{LOCKDEP_CLASS("&f->f_owner.lock")};
};

static void send_sigio(fown_struct& fown) {
  fown.lock.lock_shared();  // read_lock
  tasklist_lock.lock_shared();
  tasklist_lock.unlock_shared();
  fown.lock.unlock_shared();
}

static void walk_owners(fown_struct& fown) {
  tasklist_lock.lock_shared();
  fown.lock.lock_shared();  // the other order: fine for recursive readers
  fown.lock.unlock_shared();
  tasklist_lock.unlock_shared();
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--recursive-read") {
    fown_struct fown;
    std::thread([&] {
      pthread_setname_np(pthread_self(), "sigio");
      send_sigio(fown);
    }).join();
    std::thread([&] {
      pthread_setname_np(pthread_self(), "ps");
      walk_owners(fown);
    }).join();
  } else {
    mm_struct mm;
    inode file;
    std::thread([&] {
      pthread_setname_np(pthread_self(), "fault");
      fault_extends_file(mm, file);
    }).join();
    std::thread([&] {
      pthread_setname_np(pthread_self(), "remap");
      remap_ioctl(file, mm);  // reported here
    }).join();
  }
  return lockdep::report_count() == 0 ? 0 : 1;
}

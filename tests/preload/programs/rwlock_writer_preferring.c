/* Writer-preferring (non-recursive) rwlocks: new readers queue behind a waiting writer, so a
   read/read inversion can deadlock with writers around. Reported (circular). */
#include "lock_helpers.h"

int main(void) {
  pthread_rwlockattr_t attributes;
  pthread_rwlock_t a, b;
  CHECKED(pthread_rwlockattr_init(&attributes));
  CHECKED(pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
  CHECKED(pthread_rwlock_init(&a, &attributes));
  CHECKED(pthread_rwlock_init(&b, &attributes));
  CHECKED(pthread_rwlock_rdlock(&a));
  CHECKED(pthread_rwlock_rdlock(&b));
  CHECKED(pthread_rwlock_unlock(&b));
  CHECKED(pthread_rwlock_unlock(&a));
  CHECKED(pthread_rwlock_rdlock(&b));
  CHECKED(pthread_rwlock_rdlock(&a));
  CHECKED(pthread_rwlock_unlock(&a));
  CHECKED(pthread_rwlock_unlock(&b));
  return 0;
}

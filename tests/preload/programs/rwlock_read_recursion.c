/* Default (reader-preferring) rwlocks: a thread takes the read side twice, and two threads take
   two read sides in opposite orders. Readers never wait for readers here: nothing reported. */
#include "lock_helpers.h"

static pthread_rwlock_t a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t b = PTHREAD_RWLOCK_INITIALIZER;

static void* read_b_then_a(void* unused) {
  (void)unused;
  CHECKED(pthread_rwlock_rdlock(&b));
  CHECKED(pthread_rwlock_rdlock(&a));
  CHECKED(pthread_rwlock_unlock(&a));
  CHECKED(pthread_rwlock_unlock(&b));
  return NULL;
}

int main(void) {
  CHECKED(pthread_rwlock_rdlock(&a));
  CHECKED(pthread_rwlock_rdlock(&a));
  CHECKED(pthread_rwlock_rdlock(&b));
  CHECKED(pthread_rwlock_unlock(&b));
  CHECKED(pthread_rwlock_unlock(&a));
  CHECKED(pthread_rwlock_unlock(&a));
  pthread_t thread;
  CHECKED(pthread_create(&thread, NULL, read_b_then_a, NULL));
  CHECKED(pthread_join(thread, NULL));
  /* Write sides in a consistent order afterwards: still nothing to report. */
  CHECKED(pthread_rwlock_wrlock(&a));
  CHECKED(pthread_rwlock_unlock(&a));
  return 0;
}

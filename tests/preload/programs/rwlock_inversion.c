/* Read/write inversion: one thread reads a then writes b; another writes b then writes a. The
   writer of a would wait for the reader, who waits for b: reported (circular). */
#include "lock_helpers.h"

static pthread_rwlock_t a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t b = PTHREAD_RWLOCK_INITIALIZER;

static void* write_b_then_a(void* unused) {
  (void)unused;
  CHECKED(pthread_rwlock_wrlock(&b));
  CHECKED(pthread_rwlock_wrlock(&a));
  CHECKED(pthread_rwlock_unlock(&a));
  CHECKED(pthread_rwlock_unlock(&b));
  return NULL;
}

int main(void) {
  CHECKED(pthread_rwlock_rdlock(&a));
  CHECKED(pthread_rwlock_wrlock(&b));
  CHECKED(pthread_rwlock_unlock(&b));
  CHECKED(pthread_rwlock_unlock(&a));
  pthread_t thread;
  CHECKED(pthread_create(&thread, NULL, write_b_then_a, NULL));
  CHECKED(pthread_join(thread, NULL));
  return 0;
}

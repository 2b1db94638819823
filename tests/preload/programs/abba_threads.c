/* ABBA across two threads that never overlap: the first takes a then b, the second (started
   after the first ended) b then a. Lockdep learns orders across threads: reported. Static
   initialisers: the locks are never pthread_mutex_init'ed. */
#include "lock_helpers.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;

static void* a_then_b(void* unused) {
  (void)unused;
  lock_unlock_2(&a, &b);
  return NULL;
}

static void* b_then_a(void* unused) {
  (void)unused;
  lock_unlock_2(&b, &a);
  return NULL;
}

int main(void) {
  pthread_t thread;
  CHECKED(pthread_create(&thread, NULL, a_then_b, NULL));
  CHECKED(pthread_join(thread, NULL));
  CHECKED(pthread_create(&thread, NULL, b_then_a, NULL));
  CHECKED(pthread_join(thread, NULL));
  return 0;
}

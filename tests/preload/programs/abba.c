/* ABBA in one thread: a then b, later b then a. Nothing blocks; the inversion is reported. The
   locks are destroyed and re-initialised at the same addresses first, and that history must be
   forgotten: the clean first round after re-initialisation is not reported. */
#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a, b;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_init(&b, NULL));
  lock_unlock_2(&b, &a);
  CHECKED(pthread_mutex_destroy(&b));
  CHECKED(pthread_mutex_destroy(&a));
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_init(&b, NULL));
  lock_unlock_2(&a, &b);
  puts("a->b after re-initialisation: fine");
  fflush(stdout);
  lock_unlock_2(&b, &a);
  CHECKED(pthread_mutex_destroy(&b));
  CHECKED(pthread_mutex_destroy(&a));
  return 0;
}

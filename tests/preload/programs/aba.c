/* ABA: lock a, lock b, lock a again. Reported (recursive locking: a is held) before it blocks. */
#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a, b;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_init(&b, NULL));
  CHECKED(pthread_mutex_lock(&a));
  CHECKED(pthread_mutex_lock(&b));
  CHECKED(pthread_mutex_lock(&a));
  return 0;
}

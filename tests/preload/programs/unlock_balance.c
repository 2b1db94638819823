/* Unlocking a mutex twice: the second unlock is reported (bad unlock balance). The real unlock
   still runs (the preload does not change what the program does); it leaves glibc's user count
   off by one, so the mutex is not destroyed afterwards. */
#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_lock(&a));
  CHECKED(pthread_mutex_unlock(&a));
  pthread_mutex_unlock(&a);
  return 0;
}

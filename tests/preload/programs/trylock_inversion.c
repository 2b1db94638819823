/* a then b, later b then trylock(a): a trylock gives up instead of waiting, so the inversion
   cannot deadlock and is not reported (no dependency is recorded into a trylocked lock). */
#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a, b;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_init(&b, NULL));
  lock_unlock_2(&a, &b);
  CHECKED(pthread_mutex_lock(&b));
  if (pthread_mutex_trylock(&a) != 0) return 4;
  CHECKED(pthread_mutex_unlock(&a));
  CHECKED(pthread_mutex_unlock(&b));
  return 0;
}

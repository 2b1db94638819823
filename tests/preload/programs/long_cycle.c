/* ABBCCDDA: a->b, b->c, c->d, then d->a closes a four-lock cycle. Reported, with the chain. */
#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a, b, c, d;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_init(&b, NULL));
  CHECKED(pthread_mutex_init(&c, NULL));
  CHECKED(pthread_mutex_init(&d, NULL));
  lock_unlock_2(&a, &b);
  lock_unlock_2(&b, &c);
  lock_unlock_2(&c, &d);
  lock_unlock_2(&d, &a);
  return 0;
}

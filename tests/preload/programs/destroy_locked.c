/* A held mutex destroyed: reported (held lock freed). glibc refuses with EBUSY. */
#include <errno.h>

#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_lock(&a));
  int destroyed = pthread_mutex_destroy(&a);
  printf("destroy: %s\n", destroyed == EBUSY ? "EBUSY" : strerror(destroyed));
  return 0;
}

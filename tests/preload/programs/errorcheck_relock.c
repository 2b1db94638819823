/* An error-checking mutex locked twice: reported (recursive locking), and the real call still
   answers EDEADLK, which the program checks. Exits 0 when it did. */
#include <errno.h>

#include "lock_helpers.h"

int main(void) {
  pthread_mutexattr_t attributes;
  pthread_mutex_t e;
  CHECKED(pthread_mutexattr_init(&attributes));
  CHECKED(pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK));
  CHECKED(pthread_mutex_init(&e, &attributes));
  CHECKED(pthread_mutex_lock(&e));
  int relock = pthread_mutex_lock(&e);
  printf("relock: %s\n", relock == EDEADLK ? "EDEADLK" : strerror(relock));
  CHECKED(pthread_mutex_unlock(&e));
  return relock == EDEADLK ? 0 : 5;
}

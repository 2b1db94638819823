/* Recursive mutexes, initialised with the attribute and statically: relocking by the owner is
   allowed and not reported, even with another lock taken in between (r, a, r). */
#include "lock_helpers.h"

static pthread_mutex_t static_recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

int main(void) {
  pthread_mutexattr_t attributes;
  pthread_mutex_t r, a;
  CHECKED(pthread_mutexattr_init(&attributes));
  CHECKED(pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE));
  CHECKED(pthread_mutex_init(&r, &attributes));
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_lock(&r));
  CHECKED(pthread_mutex_lock(&r));
  CHECKED(pthread_mutex_lock(&a));
  CHECKED(pthread_mutex_lock(&r));
  CHECKED(pthread_mutex_unlock(&r));
  CHECKED(pthread_mutex_unlock(&a));
  CHECKED(pthread_mutex_unlock(&r));
  if (pthread_mutex_trylock(&r) != 0) return 4;
  CHECKED(pthread_mutex_unlock(&r));
  CHECKED(pthread_mutex_unlock(&r));
  CHECKED(pthread_mutex_lock(&static_recursive));
  CHECKED(pthread_mutex_lock(&static_recursive));
  CHECKED(pthread_mutex_unlock(&static_recursive));
  CHECKED(pthread_mutex_unlock(&static_recursive));
  CHECKED(pthread_mutex_destroy(&a));
  CHECKED(pthread_mutex_destroy(&r));
  return 0;
}

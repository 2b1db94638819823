/* A daemon-style program: takes a lock, then changes its directory to "/" as daemons do, and
   exits. Dump paths given relative to where it started must still be written there. */
#include <unistd.h>

#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
  CHECKED(pthread_mutex_lock(&a));
  CHECKED(pthread_mutex_unlock(&a));
  if (chdir("/") != 0) return 1;
  return 0;
}

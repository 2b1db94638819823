/* AA: a thread locks a normal mutex it already holds. Reported (recursive locking) before the
   second lock blocks forever; the test ends the program with timeout. */
#include "lock_helpers.h"

int main(void) {
  pthread_mutex_t a;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_lock(&a));
  CHECKED(pthread_mutex_lock(&a));
  return 0;
}

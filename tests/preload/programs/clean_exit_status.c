/* Correct locking, then exit with the status given as argument: lockdep-run must pass it on. */
#include "lock_helpers.h"

int main(int argc, char** argv) {
  pthread_mutex_t a, b;
  CHECKED(pthread_mutex_init(&a, NULL));
  CHECKED(pthread_mutex_init(&b, NULL));
  lock_unlock_2(&a, &b);
  lock_unlock_2(&a, &b);
  return argc > 1 ? atoi(argv[1]) : 0;
}

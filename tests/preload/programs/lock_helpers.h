/* Helpers shared by the preload test programs: checked pthread calls (a failing call ends the
   program with status 3, so a test can tell a broken interposer from a report) and the
   "lock a, lock b, unlock b, unlock a" step the lock-order scenarios are made of. */
#ifndef LOCKDEP_PRELOAD_TEST_LOCK_HELPERS_H
#define LOCKDEP_PRELOAD_TEST_LOCK_HELPERS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECKED(call)                                                       \
  do {                                                                      \
    int checked_result_ = (call);                                           \
    if (checked_result_ != 0) {                                             \
      fprintf(stderr, "%s failed: %s\n", #call, strerror(checked_result_)); \
      exit(3);                                                              \
    }                                                                       \
  } while (0)

static inline void lock_unlock_2(pthread_mutex_t* first, pthread_mutex_t* second) {
  CHECKED(pthread_mutex_lock(first));
  CHECKED(pthread_mutex_lock(second));
  CHECKED(pthread_mutex_unlock(second));
  CHECKED(pthread_mutex_unlock(first));
}

#endif

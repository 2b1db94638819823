/* 200,000 mutexes alive at once, each in a class of its own (the preload's default): every one
   is taken under one global lock and nested with its neighbour, so the validator holds 200,000
   classes, twice as many dependencies and three times as many chains. The default table sizes
   must take all of it: nothing is reported and the program runs to completion. */
#include "lock_helpers.h"

enum { live_mutexes = 200000 };

static pthread_mutex_t global = PTHREAD_MUTEX_INITIALIZER;

int main(void) {
  pthread_mutex_t* locks = calloc(live_mutexes, sizeof *locks);
  if (locks == NULL) return 2;
  for (int i = 0; i < live_mutexes; ++i) CHECKED(pthread_mutex_init(&locks[i], NULL));
  for (int i = 0; i < live_mutexes; ++i) lock_unlock_2(&global, &locks[i]);
  for (int i = 0; i + 1 < live_mutexes; ++i) lock_unlock_2(&locks[i], &locks[i + 1]);
  for (int i = 0; i < live_mutexes; ++i) CHECKED(pthread_mutex_destroy(&locks[i]));
  free(locks);
  printf("%d live mutexes\n", live_mutexes);
  return 0;
}

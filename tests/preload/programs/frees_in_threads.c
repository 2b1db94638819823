/* Four threads create and free structs with a pthread mutex through an allocator in a shared
   library that takes pthread mutexes of its own and reuses freed blocks at once, across threads
   (lock_taking_allocator.c). Each struct is taken with a shared lock in one order only, the order
   alternating, so a lock at a reused address inheriting its predecessor's order would be a
   false cycle. Nothing may be reported, and nothing may hang: the free() interposer runs before
   the allocator's free takes its mutexes.

   With argument "inversion", main then takes two locks of its own in both orders, which must be
   reported: the validator is still on. */
#include <stdint.h>

#include "lock_helpers.h"

struct job {
  pthread_mutex_t lock;
  char payload[40];
};

static pthread_mutex_t queue = PTHREAD_MUTEX_INITIALIZER;
static const pthread_mutex_t unlocked = PTHREAD_MUTEX_INITIALIZER;

static void* work(void* seed) {
  for (int round = (int)(intptr_t)seed; round < 2000; round += 1) {
    struct job* job = malloc(sizeof *job);
    if (job == NULL) exit(3);
    memcpy(&job->lock, &unlocked, sizeof unlocked);
    if (round % 2 == 0) {
      lock_unlock_2(&queue, &job->lock);
    } else {
      lock_unlock_2(&job->lock, &queue);
    }
    char* text = malloc(16 + round % 100);
    if (text == NULL) exit(3);
    snprintf(text, 16, "job %d", round);
    free(text);
    free(job);
  }
  return NULL;
}

int main(int argc, char** argv) {
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) {
    CHECKED(pthread_create(&threads[i], NULL, work, (void*)(intptr_t)i));
  }
  for (int i = 0; i < 4; ++i) CHECKED(pthread_join(threads[i], NULL));
  if (argc > 1 && strcmp(argv[1], "inversion") == 0) {
    static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
    static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;
    lock_unlock_2(&first, &second);
    lock_unlock_2(&second, &first);
  }
  printf("done\n");
  return 0;
}

/* A real two-thread deadlock: main holds a and wants b, the other thread holds b and wants a;
   a barrier makes sure both hold their first lock. The report must be printed before the
   program hangs (the test kills it with timeout). */
#include <unistd.h>

#include "lock_helpers.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

static void* b_then_a(void* unused) {
  (void)unused;
  CHECKED(pthread_mutex_lock(&b));
  pthread_barrier_wait(&both_hold_one);
  CHECKED(pthread_mutex_lock(&a));
  return NULL;
}

int main(void) {
  pthread_t thread;
  CHECKED(pthread_barrier_init(&both_hold_one, NULL, 2));
  CHECKED(pthread_create(&thread, NULL, b_then_a, NULL));
  CHECKED(pthread_mutex_lock(&a));
  pthread_barrier_wait(&both_hold_one);
  usleep(100 * 1000); /* let the other thread record b -> a first */
  CHECKED(pthread_mutex_lock(&b));
  CHECKED(pthread_join(thread, NULL));
  puts("not reached");
  return 0;
}

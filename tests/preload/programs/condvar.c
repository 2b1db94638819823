/* Producer/consumer on a condition variable, plus a timed wait that times out: every wait
   releases the mutex and takes it back. Nothing reported. */
#include <errno.h>
#include <time.h>

#include "lock_helpers.h"

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t other = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int items = 0;

static void* produce(void* unused) {
  (void)unused;
  for (int i = 0; i < 1000; ++i) {
    CHECKED(pthread_mutex_lock(&mutex));
    ++items;
    CHECKED(pthread_cond_signal(&changed));
    CHECKED(pthread_mutex_unlock(&mutex));
  }
  return NULL;
}

int main(void) {
  pthread_t producer;
  CHECKED(pthread_create(&producer, NULL, produce, NULL));
  int consumed = 0;
  CHECKED(pthread_mutex_lock(&mutex));
  while (consumed < 1000) {
    while (items == 0) CHECKED(pthread_cond_wait(&changed, &mutex));
    consumed += items;
    items = 0;
  }
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 10 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000;
  }
  int waited = pthread_cond_timedwait(&changed, &mutex, &deadline);
  /* Still holding mutex after the wait: taking another lock under it is an ordinary nesting. */
  CHECKED(pthread_mutex_lock(&other));
  CHECKED(pthread_mutex_unlock(&other));
  CHECKED(pthread_mutex_unlock(&mutex));
  CHECKED(pthread_join(producer, NULL));
  printf("consumed %d, timed wait: %s\n", consumed, waited == ETIMEDOUT ? "ETIMEDOUT" : "woken");
  return 0;
}

/* Four threads create, nest and destroy short-lived mutexes and rwlocks at reused stack
   addresses while sharing two global locks in one consistent order: the side table and the
   forgetting of per-instance classes under concurrency. Each round nests its two mutexes in the
   order opposite to the previous round's, at the same addresses: only forgetting the destroyed
   locks' classes keeps that from being reported. Nothing reported; the class table never fills
   up, as every destroy forgets its class. */
#include "lock_helpers.h"

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t shared = PTHREAD_RWLOCK_INITIALIZER;

static void* churn(void* unused) {
  (void)unused;
  for (int i = 0; i < 5000; ++i) {
    pthread_mutex_t first, second;
    pthread_rwlock_t table;
    CHECKED(pthread_mutex_init(&first, NULL));
    CHECKED(pthread_mutex_init(&second, NULL));
    CHECKED(pthread_rwlock_init(&table, NULL));
    CHECKED(pthread_mutex_lock(&outer));
    CHECKED(pthread_rwlock_rdlock(&shared));
    if (i % 2 == 0) {
      lock_unlock_2(&first, &second);
    } else {
      lock_unlock_2(&second, &first);
    }
    CHECKED(pthread_rwlock_unlock(&shared));
    CHECKED(pthread_mutex_unlock(&outer));
    CHECKED(pthread_rwlock_wrlock(&table));
    CHECKED(pthread_mutex_lock(i % 2 == 0 ? &first : &second));
    CHECKED(pthread_mutex_unlock(i % 2 == 0 ? &first : &second));
    CHECKED(pthread_rwlock_unlock(&table));
    CHECKED(pthread_rwlock_destroy(&table));
    CHECKED(pthread_mutex_destroy(&second));
    CHECKED(pthread_mutex_destroy(&first));
  }
  return NULL;
}

int main(void) {
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) CHECKED(pthread_create(&threads[i], NULL, churn, NULL));
  for (int i = 0; i < 4; ++i) CHECKED(pthread_join(threads[i], NULL));
  puts("churned 20000 lock sets");
  return 0;
}

/* Spinlocks in ABBA order: reported (circular) before anything spins. */
#include "lock_helpers.h"

int main(void) {
  pthread_spinlock_t a, b;
  CHECKED(pthread_spin_init(&a, PTHREAD_PROCESS_PRIVATE));
  CHECKED(pthread_spin_init(&b, PTHREAD_PROCESS_PRIVATE));
  CHECKED(pthread_spin_lock(&a));
  CHECKED(pthread_spin_lock(&b));
  CHECKED(pthread_spin_unlock(&b));
  CHECKED(pthread_spin_unlock(&a));
  if (pthread_spin_trylock(&b) != 0) return 4;
  CHECKED(pthread_spin_unlock(&b));
  CHECKED(pthread_spin_lock(&b));
  CHECKED(pthread_spin_lock(&a));
  CHECKED(pthread_spin_unlock(&a));
  CHECKED(pthread_spin_unlock(&b));
  CHECKED(pthread_spin_destroy(&b));
  CHECKED(pthread_spin_destroy(&a));
  return 0;
}

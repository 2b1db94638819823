/* fork() while another thread keeps taking locks (so table and validator updates may be in
   flight), with a lock held by the forking thread: the child unlocks it, takes new lock orders
   and exits normally; the parent goes on. Nothing reported; exits 0 when every child did. */
#include <sys/wait.h>
#include <unistd.h>

#include "lock_helpers.h"

static pthread_mutex_t held_across_fork = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop = 0;

static void* churn(void* unused) {
  (void)unused;
  while (!stop) {
    pthread_mutex_t x, y;
    CHECKED(pthread_mutex_init(&x, NULL));
    CHECKED(pthread_mutex_init(&y, NULL));
    lock_unlock_2(&x, &y);
    CHECKED(pthread_mutex_destroy(&y));
    CHECKED(pthread_mutex_destroy(&x));
  }
  return NULL;
}

int main(void) {
  pthread_t churner;
  CHECKED(pthread_create(&churner, NULL, churn, NULL));
  for (int i = 0; i < 20; ++i) {
    CHECKED(pthread_mutex_lock(&held_across_fork));
    pid_t child = fork();
    if (child < 0) return 6;
    if (child == 0) {
      CHECKED(pthread_mutex_unlock(&held_across_fork));
      pthread_mutex_t a, b;
      CHECKED(pthread_mutex_init(&a, NULL));
      CHECKED(pthread_mutex_init(&b, NULL));
      lock_unlock_2(&a, &b);
      lock_unlock_2(&held_across_fork, &a);
      _exit(0);
    }
    CHECKED(pthread_mutex_unlock(&held_across_fork));
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "child %d failed: status %d\n", i, status);
      return 7;
    }
  }
  stop = 1;
  CHECKED(pthread_join(churner, NULL));
  puts("20 children exited cleanly");
  return 0;
}

/* fork() while another thread is printing lockdep reports (keep_going: each new lock pair in
   inverted order is a distinct report). A child must never inherit the validator's or the log
   sinks' locks held: each child reports an inversion of its own, then exits. An alarm turns a
   hung child into a failure. Exits 0 when every child exited cleanly. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock_helpers.h"

static volatile int stop = 0;

/* Fresh addresses every time (never freed): classes are named by address, and keep_going
   reports each distinct pair of names once, so the reporter keeps printing. */
static void invert_new_pair(void) {
  pthread_mutex_t* x = malloc(sizeof *x);
  pthread_mutex_t* y = malloc(sizeof *y);
  if (x == NULL || y == NULL) exit(8);
  CHECKED(pthread_mutex_init(x, NULL));
  CHECKED(pthread_mutex_init(y, NULL));
  lock_unlock_2(x, y);
  lock_unlock_2(y, x);
}

static void* reporter(void* unused) {
  (void)unused;
  while (!stop) invert_new_pair();
  return NULL;
}

int main(void) {
  pthread_t reporting;
  CHECKED(pthread_create(&reporting, NULL, reporter, NULL));
  for (int i = 0; i < 20; ++i) {
    pid_t child = fork();
    if (child < 0) return 6;
    if (child == 0) {
      alarm(10);
      invert_new_pair();
      _exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "child %d failed: status %d\n", i, status);
      return 7;
    }
  }
  stop = 1;
  CHECKED(pthread_join(reporting, NULL));
  puts("20 children reported and exited cleanly");
  return 0;
}

/* The process ends while a thread holds a mutex: nothing is leaked to anyone, so nothing is
   reported and the status is the program's. With argument "exit" main calls exit(); "return"
   returns from main; "thread_exit" has another thread call exit() while holding the mutex (as
   a fatal-error path does). "main_pthread_exit" is the exception: main ends as a thread
   (pthread_exit) holding the mutex while the process lives on, which is reported. */
#include <unistd.h>

#include "lock_helpers.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t never_released = PTHREAD_MUTEX_INITIALIZER;

static void* lock_and_exit_process(void* unused) {
  (void)unused;
  CHECKED(pthread_mutex_lock(&held));
  exit(0);
}

/* Keeps the process alive after main's pthread_exit, for as long as it takes main to end. */
static void* outlive_main(void* unused) {
  (void)unused;
  usleep(200 * 1000);
  return NULL;
}

int main(int argc, char** argv) {
  const char* how = argc > 1 ? argv[1] : "exit";
  if (strcmp(how, "thread_exit") == 0) {
    pthread_t thread;
    CHECKED(pthread_create(&thread, NULL, lock_and_exit_process, NULL));
    /* The thread ends the process; main blocks on a mutex nobody releases. */
    CHECKED(pthread_mutex_lock(&never_released));
    CHECKED(pthread_join(thread, NULL));
    return 4;
  }
  CHECKED(pthread_setname_np(pthread_self(), "main_thread"));
  CHECKED(pthread_mutex_lock(&held));
  if (strcmp(how, "return") == 0) return 0;
  if (strcmp(how, "main_pthread_exit") == 0) {
    pthread_t thread;
    CHECKED(pthread_create(&thread, NULL, outlive_main, NULL));
    CHECKED(pthread_detach(thread));
    pthread_exit(NULL);
  }
  exit(0);
}

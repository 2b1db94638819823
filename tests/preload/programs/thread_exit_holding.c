/* A thread ends holding a mutex: reported (still has locks held). With argument "return" the
   thread function returns; with "pthread_exit" it calls pthread_exit(). */
#include "lock_helpers.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

/* Each thread names itself: named from main, it could end before the name was set. */
static void* lock_and_return(void* unused) {
  (void)unused;
  CHECKED(pthread_setname_np(pthread_self(), "returner"));
  CHECKED(pthread_mutex_lock(&held));
  return NULL;
}

static void* lock_and_exit(void* unused) {
  (void)unused;
  CHECKED(pthread_setname_np(pthread_self(), "exiter"));
  CHECKED(pthread_mutex_lock(&held));
  pthread_exit(NULL);
}

int main(int argc, char** argv) {
  int use_exit = argc > 1 && strcmp(argv[1], "pthread_exit") == 0;
  pthread_t thread;
  CHECKED(pthread_create(&thread, NULL, use_exit ? lock_and_exit : lock_and_return, NULL));
  CHECKED(pthread_join(thread, NULL));
  return 0;
}

/* Structs with a pthread mutex in malloc'ed memory, freed without pthread_mutex_destroy, the
   next one placed at the same address by the allocator, each taken with a long-lived lock in one
   order only, the order alternating: no lock is ever taken in both orders, so nothing may be
   reported. Covers free, realloc (moving and shrinking), reallocarray, calloc, and munmap of a
   page holding a mutex (mapped again at the same address).

   Argument: one case (free, calloc, realloc, reallocarray, munmap), or none for all; "held"
   frees a struct while its mutex is held instead, which is reported as a held lock freed, by
   free_while_held. */
#include <stdint.h>
#include <sys/mman.h>

#include "lock_helpers.h"

struct session {
  long id;
  pthread_mutex_t lock;
};

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static const pthread_mutex_t unlocked = PTHREAD_MUTEX_INITIALIZER;

/* Even rounds take registry -> session, odd rounds session -> registry. */
static void use(struct session* used, int round) {
  if (round % 2 == 0) {
    lock_unlock_2(&registry, &used->lock);
  } else {
    lock_unlock_2(&used->lock, &registry);
  }
}

static struct session* fresh(struct session* memory) {
  if (memory == NULL) exit(3);
  memcpy(&memory->lock, &unlocked, sizeof unlocked);
  return memory;
}

__attribute__((noinline)) static void free_while_held(void) {
  struct session* doomed = fresh(malloc(sizeof *doomed));
  CHECKED(pthread_mutex_lock(&doomed->lock));
  free(doomed); /* held lock freed */
}

/* Each case alone, or all with no argument. */
static int runs(int argc, char** argv, const char* name) {
  return argc < 2 || strcmp(argv[1], name) == 0;
}

int main(int argc, char** argv) {
  if (runs(argc, argv, "free")) {
    for (int round = 0; round < 10; ++round) {
      struct session* s = fresh(malloc(sizeof *s));
      use(s, round);
      free(s);
    }
  }
  if (runs(argc, argv, "calloc")) {
    for (int round = 0; round < 10; ++round) {
      struct session* s = fresh(calloc(1, sizeof *s));
      use(s, round);
      free(s);
    }
  }
  if (runs(argc, argv, "realloc")) {
    for (int round = 0; round < 10; ++round) {
      /* Grown far beyond its block, it moves: the mutex's old place is freed. */
      struct session* s = fresh(malloc(sizeof *s));
      use(s, round);
      void* grown = realloc(s, 1 << 20);
      if (grown == NULL) exit(3);
      free(grown);
    }
  }
  if (runs(argc, argv, "reallocarray")) {
    for (int round = 0; round < 10; ++round) {
      /* Shrunk to the id only: the mutex lies in the part given back. */
      struct session* s = fresh(malloc(4096));
      use(s, round);
      void* shrunk = reallocarray(s, 1, sizeof s->id);
      if (shrunk == NULL) exit(3);
      free(shrunk);
    }
  }
  if (runs(argc, argv, "munmap")) {
    void* hint = NULL;
    for (int round = 0; round < 10; ++round) {
      void* page = mmap(hint, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (page == MAP_FAILED) exit(3);
      hint = page;
      struct session* s = fresh((struct session*)((char*)page + 64));
      use(s, round);
      if (munmap(page, 4096) != 0) exit(3);
    }
  }
  if (argc > 1 && strcmp(argv[1], "held") == 0) free_while_held();
  printf("done\n");
  return 0;
}

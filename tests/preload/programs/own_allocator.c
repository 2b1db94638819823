/* A program with its own malloc that takes pthread mutexes as jemalloc does (rustc's, for one):
   each with a trylock first, a bin's while the arena's is held. The validator runs inside those
   calls; had it allocated there, or started its threads there (pthread_create allocates), it
   would have re-entered this malloc and waited for a mutex its own thread holds (it did: rustc
   hung under lockdep-run). Every allocation here goes through the program's malloc, so the
   first one would hang.
   Threads allocate and take two locks of their own in one order; with argument "inversion"
   main then takes them in the other order, which must be reported. */
#include <stdint.h>
#include <sys/mman.h>

#include "lock_helpers.h"

#define ARENA_BYTES ((size_t)256 << 20)
#define HEADER_BYTES 16 /* keeps blocks 16-byte aligned; holds the block's size */

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t bin_lock = PTHREAD_MUTEX_INITIALIZER;
static char* arena;
static size_t arena_used;

/* jemalloc's malloc_mutex_lock: a trylock first, a blocking lock if that fails. */
static void lock_like_jemalloc(pthread_mutex_t* mutex) {
  if (pthread_mutex_trylock(mutex) != 0) pthread_mutex_lock(mutex);
}

/* `size` bytes aligned to `alignment` (a power of two, at least 16), never freed. */
static void* allocate(size_t size, size_t alignment) {
  if (size > ARENA_BYTES) return NULL;
  lock_like_jemalloc(&arena_lock);
  lock_like_jemalloc(&bin_lock);
  void* result = NULL;
  if (arena == NULL) {
    void* mapped =
        mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped != MAP_FAILED) arena = mapped;
  }
  if (arena != NULL) {
    uintptr_t start = (uintptr_t)arena + arena_used + HEADER_BYTES;
    uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t end = aligned - (uintptr_t)arena + size;
    if (end <= ARENA_BYTES) {
      arena_used = (end + 15) & ~(size_t)15;
      *(size_t*)(aligned - HEADER_BYTES) = size;
      result = (void*)aligned;
    }
  }
  pthread_mutex_unlock(&bin_lock);
  pthread_mutex_unlock(&arena_lock);
  return result;
}

void* malloc(size_t size) {
  return allocate(size, 16);
}

void free(void* pointer) {
  (void)pointer; /* a short test: nothing is reused */
}

void* calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return allocate(count * size, 16); /* fresh mmap'ed memory, never reused: already zero */
}

void* realloc(void* pointer, size_t size) {
  if (pointer == NULL) return malloc(size);
  size_t old_size = *(size_t*)((char*)pointer - HEADER_BYTES);
  void* moved = malloc(size);
  if (moved != NULL) memcpy(moved, pointer, old_size < size ? old_size : size);
  return moved;
}

void* memalign(size_t alignment, size_t size) {
  return allocate(size, alignment < 16 ? 16 : alignment);
}

void* aligned_alloc(size_t alignment, size_t size) {
  return memalign(alignment, size);
}

int posix_memalign(void** result, size_t alignment, size_t size) {
  *result = memalign(alignment, size);
  return *result != NULL ? 0 : 12; /* ENOMEM */
}

size_t malloc_usable_size(void* pointer) {
  return pointer != NULL ? *(size_t*)((char*)pointer - HEADER_BYTES) : 0;
}

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;

static void* allocate_and_lock(void* unused) {
  (void)unused;
  for (int i = 0; i < 1000; ++i) {
    char* text = malloc(32 + i % 64);
    if (text == NULL) exit(3);
    snprintf(text, 32, "allocation %d", i);
    lock_unlock_2(&first, &second);
    free(text);
  }
  return NULL;
}

int main(int argc, char** argv) {
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) CHECKED(pthread_create(&threads[i], NULL, allocate_and_lock, NULL));
  for (int i = 0; i < 4; ++i) CHECKED(pthread_join(threads[i], NULL));
  if (argc > 1 && strcmp(argv[1], "inversion") == 0) lock_unlock_2(&second, &first);
  printf("done\n");
  return 0;
}

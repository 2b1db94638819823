/* A malloc in a shared library, as jemalloc, tcmalloc and mimalloc come, that takes pthread
   mutexes as jemalloc does (a trylock first, a bin's while the arena's is held) and reuses freed
   blocks at once (one LIFO free list per power-of-two size class). The program linked with it
   finds it after the preloaded libraries: their free() interposer sees every free and then
   calls this one, whose mutexes go through the pthread interposers in turn. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define HEADER_BYTES 16  /* keeps blocks 16-byte aligned; holds the size class */
#define SMALLEST_CLASS 4 /* 16 bytes */
#define CLASS_COUNT 20   /* up to 8 MiB */
#define CHUNK_BYTES ((size_t)4 << 20)

struct free_block {
  struct free_block* next;
};

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t bin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct free_block* free_lists[CLASS_COUNT];
static char* chunk;
static size_t chunk_left;

static void lock_like_jemalloc(pthread_mutex_t* mutex) {
  if (pthread_mutex_trylock(mutex) != 0) pthread_mutex_lock(mutex);
}

static int class_of(size_t size) {
  int size_class = SMALLEST_CLASS;
  while (((size_t)1 << size_class) < size) ++size_class;
  return size_class;
}

/* A block of the class, from its free list or carved from the chunk; its header says its class. */
static void* allocate(size_t size) {
  int size_class = class_of(size);
  if (size_class - SMALLEST_CLASS >= CLASS_COUNT) return NULL;
  size_t bytes = ((size_t)1 << size_class) + HEADER_BYTES;
  char* block = NULL;
  lock_like_jemalloc(&arena_lock);
  lock_like_jemalloc(&bin_lock);
  struct free_block** list = &free_lists[size_class - SMALLEST_CLASS];
  if (*list != NULL) {
    block = (char*)*list;
    *list = (*list)->next;
  } else {
    if (chunk_left < bytes) {
      void* mapped =
          mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mapped != MAP_FAILED) {
        chunk = mapped;
        chunk_left = CHUNK_BYTES;
      }
    }
    if (chunk_left >= bytes) {
      *(size_t*)chunk = (size_t)size_class;
      block = chunk + HEADER_BYTES;
      chunk += bytes;
      chunk_left -= bytes;
    }
  }
  pthread_mutex_unlock(&bin_lock);
  pthread_mutex_unlock(&arena_lock);
  return block;
}

static int class_of_block(void* pointer) {
  return (int)*(size_t*)((char*)pointer - HEADER_BYTES);
}

void* malloc(size_t size) {
  return allocate(size);
}

void free(void* pointer) {
  if (pointer == NULL) return;
  lock_like_jemalloc(&arena_lock);
  lock_like_jemalloc(&bin_lock);
  struct free_block** list = &free_lists[class_of_block(pointer) - SMALLEST_CLASS];
  struct free_block* freed = pointer;
  freed->next = *list;
  *list = freed;
  pthread_mutex_unlock(&bin_lock);
  pthread_mutex_unlock(&arena_lock);
}

size_t malloc_usable_size(void* pointer) {
  return pointer != NULL ? (size_t)1 << class_of_block(pointer) : 0;
}

void* calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  void* block = allocate(count * size);
  if (block != NULL) memset(block, 0, count * size);
  return block;
}

void* realloc(void* pointer, size_t size) {
  if (pointer == NULL) return malloc(size);
  size_t old_size = malloc_usable_size(pointer);
  if (size <= old_size) return pointer;
  void* moved = malloc(size);
  if (moved == NULL) return NULL;
  memcpy(moved, pointer, old_size);
  free(pointer);
  return moved;
}

/* Alignment beyond the header's 16 bytes: a block of the class of alignment + size, never
   returned to its list at the aligned address (a short test: such requests are few). */
void* memalign(size_t alignment, size_t size) {
  if (alignment <= HEADER_BYTES) return malloc(size);
  char* block = allocate(size + alignment + HEADER_BYTES);
  if (block == NULL) return NULL;
  uintptr_t aligned =
      ((uintptr_t)block + HEADER_BYTES + alignment - 1) & ~(uintptr_t)(alignment - 1);
  *(size_t*)(aligned - HEADER_BYTES) = (size_t)class_of(size);
  return (void*)aligned;
}

void* aligned_alloc(size_t alignment, size_t size) {
  return memalign(alignment, size);
}

int posix_memalign(void** result, size_t alignment, size_t size) {
  *result = memalign(alignment, size);
  return *result != NULL ? 0 : ENOMEM;
}

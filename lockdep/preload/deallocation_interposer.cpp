// liblockdep_free_watch.so: the program's deallocation functions, interposed so that the
// validator forgets the locks in memory going back to the allocator or to the system
// (freed_memory.hpp says why). lockdep-run preloads it right after liblockdep_preload.so.
//
// free, realloc, reallocarray, munmap and every form of operator delete pass the range they free
// to lockdep_preload_memory_freed, then call the next definition (dlsym(RTLD_NEXT)): the C
// library's, or those of an allocator the program brings as a shared library (jemalloc,
// tcmalloc and mimalloc define operator delete too, so a C++ delete never reaches free() there).
// An allocator linked into the executable itself comes before any preload in the search order:
// its frees are not seen.
//
// The size of a block:
//   - sized operator delete: the size given;
//   - free and unsized operator delete: malloc_usable_size, trusted only when it comes from the
//     same object as the deallocation function (it then knows that allocator's blocks). free()
//     without one looks for a lock at the block's first byte only; an unsized operator delete
//     without one (libstdc++'s, which calls free()) leaves the block to the free() it calls;
//   - realloc: the part it gives back (the tail when it shrinks; the whole block, once the call
//     has returned, when it moves);
//   - munmap: the pages.
// An interposer's call can reach another (libstdc++'s sized delete calls its unsized delete,
// which calls free()): the outermost one that knew the size has told the validator, so the inner
// ones do not ask again (a per-thread note of the block being freed).
//
// Nothing here allocates, takes a lock or uses the C++ library: the library has no C++ runtime
// of its own, and must not call the program's allocator from inside it.
//
// Thread-safety: as the functions interposed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // RTLD_NEXT, dladdr
#endif

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <new>

#include "freed_memory.hpp"

#define LOCKDEP_FREE_WATCH_EXPORT __attribute__((visibility("default")))
#define LOCKDEP_CALLER (__builtin_return_address(0))

namespace {

using unsized_delete = void (*)(void*) noexcept;
using sized_delete = void (*)(void*, std::size_t) noexcept;
using aligned_delete = void (*)(void*, std::align_val_t) noexcept;
using sized_aligned_delete = void (*)(void*, std::size_t, std::align_val_t) noexcept;
using nothrow_delete = void (*)(void*, const std::nothrow_t&) noexcept;
using aligned_nothrow_delete = void (*)(void*, std::align_val_t, const std::nothrow_t&) noexcept;

// The next definitions, and whether malloc_usable_size answers for the blocks each frees.
struct next_functions {
  void (*free)(void*);
  void* (*realloc)(void*, std::size_t);
  void* (*reallocarray)(void*, std::size_t, std::size_t);
  int (*munmap)(void*, std::size_t);
  std::size_t (*usable_size)(void*);
  bool free_knows_size;

  // [0] operator delete, [1] operator delete[].
  unsized_delete delete_unsized[2];
  sized_delete delete_sized[2];
  aligned_delete delete_aligned[2];
  sized_aligned_delete delete_sized_aligned[2];
  nothrow_delete delete_nothrow[2];
  aligned_nothrow_delete delete_aligned_nothrow[2];
  bool delete_knows_size[2];
};

next_functions next_table{};
std::atomic<bool> resolved{false};
// Set on the thread resolving: a deallocation from inside dlsym cannot be passed on yet.
thread_local bool resolving_here [[gnu::tls_model("initial-exec")]] = false;
// The block an interposer of this thread is freeing: inner interposers leave it alone.
thread_local const void* being_freed [[gnu::tls_model("initial-exec")]] = nullptr;

template <class Function>
Function next_definition(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

// Whether `usable_size` belongs to the same object as `deallocate`.
bool same_object(void* deallocate, void* usable_size) {
  Dl_info deallocator{};
  Dl_info measurer{};
  if (deallocate == nullptr || usable_size == nullptr) return false;
  if (dladdr(deallocate, &deallocator) == 0 || dladdr(usable_size, &measurer) == 0) return false;
  return deallocator.dli_fbase == measurer.dli_fbase;
}

void resolve_into(next_functions& next) {
  next.free = next_definition<void (*)(void*)>("free");
  next.realloc = next_definition<void* (*)(void*, std::size_t)>("realloc");
  next.reallocarray = next_definition<void* (*)(void*, std::size_t, std::size_t)>("reallocarray");
  next.munmap = next_definition<int (*)(void*, std::size_t)>("munmap");
  next.usable_size = next_definition<std::size_t (*)(void*)>("malloc_usable_size");
  next.free_knows_size =
      same_object(reinterpret_cast<void*>(next.free), reinterpret_cast<void*>(next.usable_size));

  // Itanium C++ ABI names: operator delete (ZdlPv...) and operator delete[] (ZdaPv...).
  const char* const unsized[] = {"_ZdlPv", "_ZdaPv"};
  const char* const sized[] = {"_ZdlPvm", "_ZdaPvm"};
  const char* const aligned[] = {"_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t"};
  const char* const sized_aligned[] = {"_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t"};
  const char* const nothrow[] = {"_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t"};
  const char* const aligned_nothrow[] = {"_ZdlPvSt11align_val_tRKSt9nothrow_t",
                                         "_ZdaPvSt11align_val_tRKSt9nothrow_t"};
  for (int form = 0; form < 2; ++form) {
    next.delete_unsized[form] = next_definition<unsized_delete>(unsized[form]);
    next.delete_sized[form] = next_definition<sized_delete>(sized[form]);
    next.delete_aligned[form] = next_definition<aligned_delete>(aligned[form]);
    next.delete_sized_aligned[form] = next_definition<sized_aligned_delete>(sized_aligned[form]);
    next.delete_nothrow[form] = next_definition<nothrow_delete>(nothrow[form]);
    next.delete_aligned_nothrow[form] =
        next_definition<aligned_nothrow_delete>(aligned_nothrow[form]);
    next.delete_knows_size[form] = same_object(reinterpret_cast<void*>(next.delete_unsized[form]),
                                               reinterpret_cast<void*>(next.usable_size));
  }
}

[[gnu::cold]] [[gnu::noinline]] const next_functions* resolve_next() {
  if (resolving_here) return nullptr;
  // Threads racing here resolve the same answers; the stores are of identical values.
  resolving_here = true;
  resolve_into(next_table);
  resolving_here = false;
  resolved.store(true, std::memory_order_release);
  return &next_table;
}

// The next definitions, or nullptr while this thread is resolving them (dlsym may free).
[[gnu::always_inline]] inline const next_functions* next() {
  if (resolved.load(std::memory_order_acquire)) [[likely]]
    return &next_table;
  return resolve_next();
}

[[gnu::constructor]] void resolve_at_load() {
  (void)next();
}

// Tells the validator about [block, block + size) unless an interposer further out on this
// thread already did, then runs `deallocate` with the block noted as being freed.
template <class Deallocate>
void free_watched(void* block, std::size_t size, const void* caller, Deallocate deallocate) {
  if (block == nullptr || block == being_freed) {
    deallocate();
    return;
  }
  lockdep_preload_memory_freed(block, size, caller);
  const void* outer = being_freed;
  being_freed = block;
  deallocate();
  being_freed = outer;
}

// An unsized operator delete: the block's size if its allocator can tell; otherwise the block is
// passed on unwatched, to the free() that libstdc++'s delete calls.
template <class Deallocate>
void unsized_delete_watched(void* block, int form, const void* caller, Deallocate deallocate) {
  const next_functions* functions = next();
  if (functions == nullptr || !functions->delete_knows_size[form] || block == nullptr) {
    deallocate();
    return;
  }
  free_watched(block, functions->usable_size(block), caller, deallocate);
}

std::size_t page_rounded(std::size_t length) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return length > static_cast<std::size_t>(-1) - page ? length : (length + page - 1) & ~(page - 1);
}

// realloc and reallocarray: the tail given back before the call (when the block shrinks in place
// it is freed; when the block moves, the whole is), the rest once the call says it moved.
template <class Reallocate>
void* realloc_watched(void* block, std::size_t new_size, const void* caller,
                      Reallocate reallocate) {
  const next_functions* functions = next();
  if (block == nullptr || functions == nullptr || !functions->free_knows_size) {
    return reallocate();
  }
  const std::size_t old_size = functions->usable_size(block);
  if (new_size < old_size) {
    lockdep_preload_memory_freed(static_cast<char*>(block) + new_size, old_size - new_size, caller);
  }
  void* moved = reallocate();
  // realloc(block, 0) may free the block and return null; a failure leaves it where it was.
  const bool freed = moved == nullptr ? new_size == 0 : moved != block;
  if (freed) {
    lockdep_preload_memory_freed(block, new_size < old_size ? new_size : old_size, caller);
  }
  return moved;
}

}  // namespace

extern "C" {

LOCKDEP_FREE_WATCH_EXPORT void free(void* block) noexcept {
  const next_functions* functions = next();
  if (functions == nullptr) return;  // from inside dlsym: leaked, once
  // Without a size from its allocator, only a lock at the block's start is sure to be in it.
  std::size_t size = 1;
  if (block != nullptr && functions->free_knows_size) size = functions->usable_size(block);
  free_watched(block, size, LOCKDEP_CALLER, [&] { functions->free(block); });
}

LOCKDEP_FREE_WATCH_EXPORT void* realloc(void* block, std::size_t size) noexcept {
  const next_functions* functions = next();
  if (functions == nullptr) return nullptr;
  return realloc_watched(block, size, LOCKDEP_CALLER,
                         [&] { return functions->realloc(block, size); });
}

LOCKDEP_FREE_WATCH_EXPORT void* reallocarray(void* block, std::size_t count,
                                             std::size_t size) noexcept {
  const next_functions* functions = next();
  if (functions == nullptr || functions->reallocarray == nullptr) return nullptr;
  std::size_t bytes = 0;
  // An overflowing product fails with ENOMEM and frees nothing.
  if (__builtin_mul_overflow(count, size, &bytes))
    return functions->reallocarray(block, count, size);
  return realloc_watched(block, bytes, LOCKDEP_CALLER,
                         [&] { return functions->reallocarray(block, count, size); });
}

LOCKDEP_FREE_WATCH_EXPORT int munmap(void* address, std::size_t length) noexcept {
  const next_functions* functions = next();
  if (functions == nullptr || functions->munmap == nullptr) {
    return static_cast<int>(syscall(SYS_munmap, address, length));
  }
  if (length != 0) lockdep_preload_memory_freed(address, page_rounded(length), LOCKDEP_CALLER);
  return functions->munmap(address, length);
}

}  // extern "C"

// operator delete and operator delete[]: `form` 0 and 1 of the tables. Forms not defined further
// down the search order fall back to free(), as libstdc++'s own do.

namespace {

template <int form>
void delete_unsized(void* block, const void* caller) {
  const next_functions* functions = next();
  if (functions == nullptr) return;
  unsized_delete deallocate = functions->delete_unsized[form];
  if (deallocate == nullptr) return free(block);
  unsized_delete_watched(block, form, caller, [&] { deallocate(block); });
}

template <int form>
void delete_sized(void* block, std::size_t size, const void* caller) {
  const next_functions* functions = next();
  if (functions == nullptr) return;
  sized_delete deallocate = functions->delete_sized[form];
  if (deallocate == nullptr) return delete_unsized<form>(block, caller);
  free_watched(block, size, caller, [&] { deallocate(block, size); });
}

template <int form>
void delete_aligned(void* block, std::align_val_t alignment, const void* caller) {
  const next_functions* functions = next();
  if (functions == nullptr) return;
  aligned_delete deallocate = functions->delete_aligned[form];
  if (deallocate == nullptr) return free(block);
  unsized_delete_watched(block, form, caller, [&] { deallocate(block, alignment); });
}

template <int form>
void delete_sized_aligned(void* block, std::size_t size, std::align_val_t alignment,
                          const void* caller) {
  const next_functions* functions = next();
  if (functions == nullptr) return;
  sized_aligned_delete deallocate = functions->delete_sized_aligned[form];
  if (deallocate == nullptr) return delete_aligned<form>(block, alignment, caller);
  free_watched(block, size, caller, [&] { deallocate(block, size, alignment); });
}

template <int form>
void delete_nothrow(void* block, const std::nothrow_t& tag, const void* caller) {
  const next_functions* functions = next();
  if (functions == nullptr) return;
  nothrow_delete deallocate = functions->delete_nothrow[form];
  if (deallocate == nullptr) return delete_unsized<form>(block, caller);
  unsized_delete_watched(block, form, caller, [&] { deallocate(block, tag); });
}

template <int form>
void delete_aligned_nothrow(void* block, std::align_val_t alignment, const std::nothrow_t& tag,
                            const void* caller) {
  const next_functions* functions = next();
  if (functions == nullptr) return;
  aligned_nothrow_delete deallocate = functions->delete_aligned_nothrow[form];
  if (deallocate == nullptr) return delete_aligned<form>(block, alignment, caller);
  unsized_delete_watched(block, form, caller, [&] { deallocate(block, alignment, tag); });
}

}  // namespace

LOCKDEP_FREE_WATCH_EXPORT void operator delete(void* block) noexcept {
  delete_unsized<0>(block, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete[](void* block) noexcept {
  delete_unsized<1>(block, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete(void* block, std::size_t size) noexcept {
  delete_sized<0>(block, size, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete[](void* block, std::size_t size) noexcept {
  delete_sized<1>(block, size, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete(void* block, std::align_val_t alignment) noexcept {
  delete_aligned<0>(block, alignment, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete[](void* block, std::align_val_t alignment) noexcept {
  delete_aligned<1>(block, alignment, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete(void* block, std::size_t size,
                                               std::align_val_t alignment) noexcept {
  delete_sized_aligned<0>(block, size, alignment, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete[](void* block, std::size_t size,
                                                 std::align_val_t alignment) noexcept {
  delete_sized_aligned<1>(block, size, alignment, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete(void* block, const std::nothrow_t& tag) noexcept {
  delete_nothrow<0>(block, tag, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete[](void* block, const std::nothrow_t& tag) noexcept {
  delete_nothrow<1>(block, tag, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete(void* block, std::align_val_t alignment,
                                               const std::nothrow_t& tag) noexcept {
  delete_aligned_nothrow<0>(block, alignment, tag, LOCKDEP_CALLER);
}
LOCKDEP_FREE_WATCH_EXPORT void operator delete[](void* block, std::align_val_t alignment,
                                                 const std::nothrow_t& tag) noexcept {
  delete_aligned_nothrow<1>(block, alignment, tag, LOCKDEP_CALLER);
}

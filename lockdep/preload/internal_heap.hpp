// The preloaded validator's own heap: liblockdep_preload.so defines operator new and delete for
// itself (and for its copy of the C++ library, linked in statically for this), so the validator
// never calls the program's malloc.
//
// Why: the validator runs inside the program's pthread calls, and a program's allocator may make
// those calls while it holds its own locks: jemalloc (rustc, for one) takes a pthread mutex with
// trylock, and the validator, registering that mutex's class, allocated, which re-entered
// jemalloc and waited for the mutex its own thread had just taken. No validator allocation can
// reach the program's allocator now; only a report's symbolization (libdw) still mallocs.
//
// The heap: size classes of powers of two from 16 bytes to 32 KiB, each a free list, carved from
// 1 MiB mmap'ed chunks; larger blocks are mappings of their own. One spin_lock guards it (the
// validator allocates on its slow paths only). Memory freed goes back to its class's list,
// never to the system, as most of what the validator allocates lives as long as the program.
//
// Thread-safety: any thread. Not async-signal-safe (nor is malloc).
#pragma once

#include <cstddef>

namespace lockdep::preload {

// What operator new promises without an alignment argument.
inline constexpr std::size_t heap_alignment = 16;

// `size` bytes aligned to `alignment` (a power of two), or null when memory is out.
void* heap_allocate(std::size_t size, std::size_t alignment) noexcept;
// Frees what heap_allocate returned; null is ignored.
void heap_deallocate(void* pointer) noexcept;

// Taken last before fork and released first after it, in parent and child: the holders of every
// other lock the validator takes may allocate, and a child must not inherit the heap locked.
void lock_internal_heap_for_fork();
void unlock_internal_heap_after_fork();

}  // namespace lockdep::preload

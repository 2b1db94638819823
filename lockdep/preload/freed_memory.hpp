// The seam between the deallocation interposers (liblockdep_free_watch.so: free, realloc,
// reallocarray, operator delete in all its forms, munmap) and the preloaded validator
// (liblockdep_preload.so), which keeps the pthread objects' maps.
//
// Why: a lock's memory can go back to the allocator without *_destroy, always so for std::mutex
// (its destructor is trivial). Its map would outlive it, and the next lock the allocator places
// at that address would inherit its class and its dependencies: a false cycle between objects
// that never met. And a lock freed while held is a bug the kernel reports at kfree().
//
// The interposers live in a library of their own because liblockdep_preload.so defines operator
// new and delete for itself (internal_heap.hpp): it cannot also export the program's.
#pragma once

#include <cstddef>

extern "C" {

// [begin, begin + size) is going back to the allocator or to the system, by the call whose
// return address is `caller` (in the program). Every pthread object tracked inside it is
// forgotten as its *_destroy would forget it, after a report (held lock freed) if the calling
// thread holds one. Call it before the memory is really freed: afterwards another thread may
// place a new lock there.
//
// Cost: one hash lookup of each page in the range (of each tracked page, for ranges of more pages
// than that) and a mask test, when no tracked object lies in the range; no lock taken, no
// allocation. Does nothing inside the validator's own calls or before the preload is ready.
// Thread-safety: any thread.
void lockdep_preload_memory_freed(const void* begin, std::size_t size, const void* caller) noexcept;
}

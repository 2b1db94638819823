// lock_pages: where in memory the lock table's objects lie, so that memory going back to the
// allocator or the system can be searched for locks by range, not only by exact address.
//
// For every 4 KiB page that ever held a tracked pthread object, one bit per 4-byte slot says
// whether an object starts there (pthread objects are at least 4-byte aligned: a spinlock is an
// int, the others hold pointers). A free() of a block with no lock in it, the common case,
// costs one hash lookup of the block's page and a mask test: no lock taken.
//
// The lock table sets a bit when it publishes an object's map and clears it when it unpublishes
// it, both under the table's shard lock for that object, so the bit of one address is written
// by one thread at a time. Pages are entries in a hash of 65,536 buckets, each a chain that only
// grows: an entry, once published, stays for the life of the process (152 bytes per page that
// ever held a lock; mostly the same pages again, as allocators reuse their memory). Entries come
// from mmap'ed chunks, never from malloc. A range of more pages than there are entries (a large
// munmap) is searched by walking the entries instead of looking up its pages.
//
// Thread-safety: any thread; lookups take no lock, adding a page takes its shard's spin lock.
// A lookup racing with the creation of a lock in the range it searches may miss it, as a free()
// racing with a use of the memory freed is a use-after-free in the program.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockdep::preload {

// Records that a tracked object starts at `object` (false if no memory for a new page entry:
// the object is then not found by range, only by its address).
bool lock_pages_add(const void* object);
// Records that it no longer does.
void lock_pages_remove(const void* object);

// Whether any tracked object starts inside [begin, begin + size).
bool lock_pages_any_in(const void* begin, std::size_t size);

// Calls visit(object, context) for each tracked object starting inside [begin, begin + size),
// in no particular order. visit may remove objects (lock_pages_remove) as it goes.
void lock_pages_for_each_in(const void* begin, std::size_t size,
                            void (*visit)(const void* object, void* context), void* context);

// fork(): hold every shard lock across it, so the child's index is whole.
void lock_pages_lock_for_fork();
void lock_pages_unlock_after_fork();

}  // namespace lockdep::preload

// operator new and delete for liblockdep_preload.so, from its own heap (internal_heap.hpp).
// The library's version script keeps them (like everything but the pthread interposers) local,
// so they serve this library's code and its static copy of the C++ library only; the program's
// own new and delete are untouched. Not built with a sanitizer, whose allocator takes no
// pthread lock and which checks the validator's memory use.
#include <cstddef>
#include <new>

#include "internal_heap.hpp"

namespace {

using lockdep::preload::heap_alignment;

void* allocate(std::size_t size, std::size_t alignment) noexcept {
  return lockdep::preload::heap_allocate(size, alignment);
}

void* allocate_or_throw(std::size_t size, std::size_t alignment) {
  void* allocated = allocate(size, alignment);
  if (allocated == nullptr) throw std::bad_alloc();
  return allocated;
}

void deallocate(void* pointer) noexcept {
  lockdep::preload::heap_deallocate(pointer);
}

std::size_t alignment_of(std::align_val_t alignment) {
  return static_cast<std::size_t>(alignment);
}

}  // namespace

void* operator new(std::size_t size) {
  return allocate_or_throw(size, heap_alignment);
}
void* operator new[](std::size_t size) {
  return allocate_or_throw(size, heap_alignment);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size, heap_alignment);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size, heap_alignment);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate_or_throw(size, alignment_of(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate_or_throw(size, alignment_of(alignment));
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate(size, alignment_of(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate(size, alignment_of(alignment));
}

void operator delete(void* pointer) noexcept {
  deallocate(pointer);
}
void operator delete[](void* pointer) noexcept {
  deallocate(pointer);
}
void operator delete(void* pointer, std::size_t) noexcept {
  deallocate(pointer);
}
void operator delete[](void* pointer, std::size_t) noexcept {
  deallocate(pointer);
}
void operator delete(void* pointer, const std::nothrow_t&) noexcept {
  deallocate(pointer);
}
void operator delete[](void* pointer, const std::nothrow_t&) noexcept {
  deallocate(pointer);
}
void operator delete(void* pointer, std::align_val_t) noexcept {
  deallocate(pointer);
}
void operator delete[](void* pointer, std::align_val_t) noexcept {
  deallocate(pointer);
}
void operator delete(void* pointer, std::size_t, std::align_val_t) noexcept {
  deallocate(pointer);
}
void operator delete[](void* pointer, std::size_t, std::align_val_t) noexcept {
  deallocate(pointer);
}
void operator delete(void* pointer, std::align_val_t, const std::nothrow_t&) noexcept {
  deallocate(pointer);
}
void operator delete[](void* pointer, std::align_val_t, const std::nothrow_t&) noexcept {
  deallocate(pointer);
}

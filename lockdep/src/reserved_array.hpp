// reserved_array: a fixed-capacity array whose address space is reserved up front and whose
// memory is committed only as the array grows (in steps, page_commit.hpp).
//
// Why: the class table must never move (the lock-free fast path indexes it while the slow path
// adds classes), so it is sized by max_classes once. Sized for a program with hundreds of
// thousands of live locks, a table that is allocated and constructed in full would cost most
// programs a hundred megabytes they never use. An anonymous mapping costs nothing until a page
// is touched, and elements are constructed one by one as the table grows into them.
//
// Elements [0, constructed()) exist; the owner constructs the next ones with grow_to() before
// using them. Reading an element past constructed() is reading zero bytes (fresh pages), which
// is what an atomic<T*> or atomic<integer> constructed with zero holds: the fast path relies on
// that only for such types. If the mapping fails, the capacity is 0 and every use of the table
// is a capacity report.
//
// Not thread-safe: grow_to() and destruction need the owner's lock; operator[] on constructed
// elements is as safe as the element type. Not copyable or movable.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "page_commit.hpp"

// LeakSanitizer does not look inside anonymous mappings, so memory whose only pointers are in
// one (a class's dependency lists) would be reported as leaked: the mapping is registered as a
// root region in sanitized builds.
#if defined(__SANITIZE_ADDRESS__)
#define LOCKDEP_RESERVED_ARRAY_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCKDEP_RESERVED_ARRAY_LSAN 1
#endif
#endif
#ifdef LOCKDEP_RESERVED_ARRAY_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace lockdep::detail {

template <typename T>
class reserved_array {
 public:
  explicit reserved_array(std::size_t capacity) {
    // One huge page more than needed, so that the elements can start on a huge-page boundary
    // (address space only: nothing is committed yet).
    std::size_t mapping_bytes = round_up(capacity * sizeof(T), page_bytes) + huge_page_bytes;
    void* mapped = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (capacity != 0 && mapped != MAP_FAILED) {
      mapping_ = mapped;
      mapping_bytes_ = mapping_bytes;
      auto start = round_up(reinterpret_cast<std::uintptr_t>(mapped), huge_page_bytes);
      elements_ = reinterpret_cast<T*>(start);
      capacity_ = capacity;
      prefer_huge_pages(elements_, capacity_ * sizeof(T));
#ifdef LOCKDEP_RESERVED_ARRAY_LSAN
      __lsan_register_root_region(elements_, capacity_ * sizeof(T));
#endif
    }
  }
  reserved_array(const reserved_array&) = delete;
  reserved_array& operator=(const reserved_array&) = delete;
  ~reserved_array() {
    for (std::size_t i = 0; i < constructed_; ++i) elements_[i].~T();
    if (elements_ == nullptr) return;
#ifdef LOCKDEP_RESERVED_ARRAY_LSAN
    __lsan_unregister_root_region(elements_, capacity_ * sizeof(T));
#endif
    munmap(mapping_, mapping_bytes_);
  }

  T& operator[](std::size_t index) { return elements_[index]; }
  const T& operator[](std::size_t index) const { return elements_[index]; }
  T* data() { return elements_; }
  const T* data() const { return elements_; }

  std::size_t capacity() const { return capacity_; }
  std::size_t constructed() const { return constructed_; }
  // Default-constructs the elements up to `count` (at most capacity()).
  void grow_to(std::size_t count) {
    commit_through(count * sizeof(T));
    if constexpr (std::is_trivially_default_constructible_v<T> &&
                  std::is_trivially_destructible_v<T>) {
      // Value-initialized, such an element is zero bytes, which a fresh page already holds
      // (the array only grows into memory it has never used).
      constructed_ = std::max(constructed_, count);
    } else {
      for (; constructed_ < count; ++constructed_) new (&elements_[constructed_]) T();
    }
  }
  // Commits the memory of the first `count` elements (at least one commit step) without
  // constructing them: the owner decides when the first step's cost is paid.
  void commit_for(std::size_t count) { commit_through(count * sizeof(T)); }

 private:
  // Commits the memory behind the first `bytes` ahead of use, in steps that double up to a huge
  // page, so that growing one element at a time costs one madvise() per step instead of one
  // fault per page, and a small table stays small.
  void commit_through(std::size_t bytes) {
    if (bytes <= committed_bytes_) return;
    std::size_t step = std::clamp(committed_bytes_, page_bytes * 16, huge_page_bytes);
    std::size_t end = round_up(std::max(bytes, committed_bytes_ + step), page_bytes);
    end = std::min(end, round_up(capacity_ * sizeof(T), page_bytes));
    populate_pages(reinterpret_cast<char*>(elements_) + committed_bytes_, end - committed_bytes_);
    committed_bytes_ = end;
  }

  void* mapping_ = nullptr;
  std::size_t mapping_bytes_ = 0;
  std::size_t committed_bytes_ = 0;
  T* elements_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t constructed_ = 0;
};

}  // namespace lockdep::detail

// mapped_chunks: objects carved one after another from anonymous mappings, for the preload's
// side tables, which must never call the program's malloc (their callers may be inside it).
// Memory is never given back: the tables recycle their objects themselves, or keep them.
//
// Not thread-safe: the owner carves under its own lock. Constant-initialisable, so it works in
// a zero-initialised static before any constructor runs. Not copyable or movable.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace lockdep::preload {

template <class Object, std::size_t chunk_bytes = 256 * 1024>
class mapped_chunks {
  static_assert(sizeof(Object) <= chunk_bytes);

 public:
  constexpr mapped_chunks() = default;
  mapped_chunks(const mapped_chunks&) = delete;
  mapped_chunks& operator=(const mapped_chunks&) = delete;

  // A new Object, value-initialised; nullptr when no memory can be mapped.
  Object* carve() {
    if (left_ < sizeof(Object)) {
      void* mapped =
          mmap(nullptr, chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mapped == MAP_FAILED) return nullptr;
      next_ = static_cast<unsigned char*>(mapped);
      left_ = chunk_bytes;
    }
    auto* carved = new (next_) Object();
    next_ += sizeof(Object);
    left_ -= sizeof(Object);
    return carved;
  }

 private:
  unsigned char* next_ = nullptr;
  std::size_t left_ = 0;
};

}  // namespace lockdep::preload

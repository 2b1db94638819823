// pointer_map: a hash map from addresses to small values, for the class registry's lookups by
// key. Open addressing with linear probing in one array, so inserting never allocates a node
// (std::unordered_map allocated two per new class, which was most of the cost of registering
// one); it grows by doubling at half full. Erasing leaves a tombstone that later inserts reuse;
// growing drops them.
//
// Not thread-safe (the validator uses it under its graph lock). Keys must not be nullptr or
// the tombstone address. Not copyable; movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lockdep::detail {

template <class Value>
class pointer_map {
 public:
  pointer_map() { slots_.resize(16); }

  // The value of `key`, or nullptr.
  Value* find(const void* key) {
    std::size_t slot = find_slot(key);
    return slot == npos ? nullptr : &slots_[slot].value;
  }
  const Value* find(const void* key) const { return const_cast<pointer_map*>(this)->find(key); }

  // The value of `key`, value-initialized if it was not there.
  Value& operator[](const void* key) {
    if (std::size_t slot = find_slot(key); slot != npos) return slots_[slot].value;
    if ((size_ + tombstones_ + 1) * 2 > slots_.size()) grow();
    std::size_t slot = home_of(key);
    while (slots_[slot].key != nullptr && slots_[slot].key != tombstone()) slot = next(slot);
    if (slots_[slot].key == tombstone()) --tombstones_;
    slots_[slot] = {key, Value{}};
    ++size_;
    return slots_[slot].value;
  }

  void erase(const void* key) {
    std::size_t slot = find_slot(key);
    if (slot == npos) return;
    slots_[slot] = {tombstone(), Value{}};
    --size_;
    ++tombstones_;
  }

  std::size_t size() const { return size_; }

 private:
  struct entry {
    const void* key = nullptr;
    Value value{};
  };
  static constexpr std::size_t npos = ~std::size_t{0};

  static const void* tombstone() { return reinterpret_cast<const void*>(std::uintptr_t{1}); }
  std::size_t home_of(const void* key) const {
    // Fibonacci hashing: addresses differ mostly in their middle bits.
    auto bits = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key));
    return static_cast<std::size_t>((bits * 0x9e3779b97f4a7c15ull) >> 32) & (slots_.size() - 1);
  }
  std::size_t next(std::size_t slot) const { return (slot + 1) & (slots_.size() - 1); }

  std::size_t find_slot(const void* key) const {
    for (std::size_t slot = home_of(key);; slot = next(slot)) {
      if (slots_[slot].key == key) return slot;
      if (slots_[slot].key == nullptr) return npos;
    }
  }

  void grow() {
    std::vector<entry> old(slots_.size() * (size_ * 4 >= slots_.size() ? 2 : 1));
    old.swap(slots_);
    size_ = 0;
    tombstones_ = 0;
    for (entry& moved : old) {
      if (moved.key != nullptr && moved.key != tombstone()) (*this)[moved.key] = moved.value;
    }
  }

  std::vector<entry> slots_;  // a power of two in size, at most half used
  std::size_t size_ = 0;
  std::size_t tombstones_ = 0;
};

}  // namespace lockdep::detail

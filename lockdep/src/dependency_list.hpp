// dependency_list: one class's dependencies in one direction (locks taken after it, or held
// before it), in the order they were first seen, with removal in constant time.
//
// Each edge is kept twice, in the forward list of `from` and the backward list of `to`, and
// each copy knows its twin's position (`mirror`). Forgetting a class then costs the number of
// its own edges: the twins are found by position, not by scanning the other class's list, which
// for a class every lock is taken under (a global lock, a table lock) holds one entry per lock
// in the program. A removed entry leaves a hole that iteration skips, so the others keep their
// order (the search finds the same shortest path the kernel's list would) and positions; once
// holes are half the list it is compacted, and the owner moves the twins' mirrors.
//
// The first entry is kept inline: most classes have one or two dependencies each way, and a
// program's first pass over its locks spent several percent of its time allocating one-entry
// lists. Longer lists live on the heap, growing by doubling.
//
// Not thread-safe: used under the validator's graph lock. Copyable and movable (as a value in a
// lock_class; the graph never copies one).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace lockdep::detail {

using class_index = std::uint32_t;
inline constexpr class_index no_class = 0;  // index 0 is never used

// One direction of a dependency "from --> to" (from held while to was acquired).
struct dependency {
  class_index other;       // `to` in the forward list, `from` in the backward one; no_class: a hole
  std::uint8_t types;      // dependency_bits seen for this pair (forward orientation)
  std::uint16_t distance;  // 1 when `to` was taken directly on top of `from`
  std::uint32_t trace;     // stack store id of the first time it was seen
  std::uint32_t mirror;    // the twin's position in the other class's opposite list
};

class dependency_list {
 public:
  // Iterates over the entries, skipping holes.
  template <typename Entry>
  class basic_iterator {
   public:
    basic_iterator(Entry* at, Entry* end) : at_(at), end_(end) { skip_holes(); }
    Entry& operator*() const { return *at_; }
    Entry* operator->() const { return at_; }
    basic_iterator& operator++() {
      ++at_;
      skip_holes();
      return *this;
    }
    bool operator==(const basic_iterator& other) const { return at_ == other.at_; }

   private:
    void skip_holes() {
      while (at_ != end_ && at_->other == no_class) ++at_;
    }
    Entry* at_;
    Entry* end_;
  };
  using iterator = basic_iterator<dependency>;
  using const_iterator = basic_iterator<const dependency>;

  dependency_list() = default;
  dependency_list(const dependency_list& other) { *this = other; }
  dependency_list(dependency_list&& other) noexcept { *this = std::move(other); }
  dependency_list& operator=(const dependency_list& other) {
    if (this == &other) return *this;
    release();
    reserve(other.size_);
    std::copy_n(other.entries(), other.size_, entries());
    size_ = other.size_;
    holes_ = other.holes_;
    return *this;
  }
  dependency_list& operator=(dependency_list&& other) noexcept {
    if (this == &other) return *this;
    release();
    storage_ = other.storage_;
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, inline_capacity);
    holes_ = std::exchange(other.holes_, 0);
    other.storage_.first = {};
    return *this;
  }
  ~dependency_list() { release(); }

  iterator begin() { return {entries(), entries() + size_}; }
  iterator end() { return {entries() + size_, entries() + size_}; }
  const_iterator begin() const { return {entries(), entries() + size_}; }
  const_iterator end() const { return {entries() + size_, entries() + size_}; }

  std::size_t size() const { return size_ - holes_; }
  bool empty() const { return size() == 0; }
  // Positions, holes included: what `mirror` indexes.
  std::uint32_t positions() const { return size_; }
  dependency& at(std::uint32_t position) { return entries()[position]; }

  // Adds an entry at the end; returns its position.
  std::uint32_t append(const dependency& entry) {
    if (size_ == capacity_) reserve(2 * capacity_);
    entries()[size_] = entry;
    return size_++;
  }
  // Leaves a hole at `position`.
  void remove(std::uint32_t position) {
    entries()[position].other = no_class;
    ++holes_;
  }
  // Squeezes the holes out once they are half the list, calling moved(entry, new_position) for
  // each entry whose position changed, so that the caller can repoint its twin.
  template <typename Moved>
  void compact_if_sparse(Moved moved) {
    if (holes_ * 2 < size_) return;
    dependency* list = entries();
    std::uint32_t kept = 0;
    for (std::uint32_t position = 0; position < size_; ++position) {
      if (list[position].other == no_class) continue;
      if (kept != position) {
        list[kept] = list[position];
        moved(list[kept], kept);
      }
      ++kept;
    }
    size_ = kept;
    holes_ = 0;
  }
  // Forgets every entry and gives its memory back.
  void release() {
    if (capacity_ > inline_capacity) {
      delete[] storage_.heap;
      storage_.first = {};
    }
    size_ = 0;
    capacity_ = inline_capacity;
    holes_ = 0;
  }

 private:
  static constexpr std::uint32_t inline_capacity = 1;

  dependency* entries() { return capacity_ > inline_capacity ? storage_.heap : &storage_.first; }
  const dependency* entries() const {
    return capacity_ > inline_capacity ? storage_.heap : &storage_.first;
  }
  // Room for `wanted` entries, the ones there kept in place.
  void reserve(std::uint32_t wanted) {
    if (wanted <= capacity_) return;
    auto* grown = new dependency[wanted];
    std::copy_n(entries(), size_, grown);
    if (capacity_ > inline_capacity) delete[] storage_.heap;
    storage_.heap = grown;
    capacity_ = wanted;
  }

  union storage {
    dependency first;  // while capacity_ is inline_capacity
    dependency* heap;  // once the list has outgrown it
  } storage_{};
  std::uint32_t size_ = 0;  // positions used, holes included
  std::uint32_t capacity_ = inline_capacity;
  std::uint32_t holes_ = 0;
};

}  // namespace lockdep::detail

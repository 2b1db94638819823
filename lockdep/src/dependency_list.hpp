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
// Not thread-safe: used under the validator's graph lock. Copyable and movable (as a value in a
// lock_class; the graph never copies one).
#pragma once

#include <cstdint>
#include <vector>

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

  iterator begin() { return {entries_.data(), entries_.data() + entries_.size()}; }
  iterator end() { return {entries_.data() + entries_.size(), entries_.data() + entries_.size()}; }
  const_iterator begin() const { return {entries_.data(), entries_.data() + entries_.size()}; }
  const_iterator end() const {
    return {entries_.data() + entries_.size(), entries_.data() + entries_.size()};
  }

  std::size_t size() const { return entries_.size() - holes_; }
  bool empty() const { return size() == 0; }
  // Positions, holes included: what `mirror` indexes.
  std::uint32_t positions() const { return static_cast<std::uint32_t>(entries_.size()); }
  dependency& at(std::uint32_t position) { return entries_[position]; }

  // Adds an entry at the end; returns its position.
  std::uint32_t append(const dependency& entry) {
    entries_.push_back(entry);
    return static_cast<std::uint32_t>(entries_.size() - 1);
  }
  // Leaves a hole at `position`.
  void remove(std::uint32_t position) {
    entries_[position].other = no_class;
    ++holes_;
  }
  // Squeezes the holes out once they are half the list, calling moved(entry, new_position) for
  // each entry whose position changed, so that the caller can repoint its twin.
  template <typename Moved>
  void compact_if_sparse(Moved moved) {
    if (holes_ * 2 < entries_.size()) return;
    std::uint32_t kept = 0;
    for (std::uint32_t position = 0; position < entries_.size(); ++position) {
      if (entries_[position].other == no_class) continue;
      if (kept != position) {
        entries_[kept] = entries_[position];
        moved(entries_[kept], kept);
      }
      ++kept;
    }
    entries_.resize(kept);
    holes_ = 0;
  }
  // Forgets every entry and gives its memory back.
  void release() {
    entries_ = {};
    holes_ = 0;
  }

 private:
  std::vector<dependency> entries_;
  std::uint32_t holes_ = 0;
};

}  // namespace lockdep::detail

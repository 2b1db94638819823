// The dependency graph between lock classes and its cycle search.
//
// An edge A --> B means "B was acquired while A was held". Each edge keeps the kinds of access
// seen (dependency_bits) and the stack trace of its first occurrence. Before an edge is added the
// validator asks whether the graph already has a path back; a path means a possible deadlock.
//
// The search follows the kernel's strong-path rule for readers: a path that enters a class by a
// recursive-read acquisition (-(xR)->) and leaves it from a shared hold (-(Sx)->) cannot deadlock
// (recursive readers do not block each other), so it does not count. Unlike the kernel, which
// marks a class visited once per search, this search visits a class at most twice (once reached
// by a strong-ending path, once by a recursive-read-ending one), which makes it exact.
//
// Breadth first and iterative, so the path found is the shortest and the stack stays small.
// Cost: O(classes + edges) per search; scratch space is reused between searches.
// Not thread-safe: used under the validator's graph lock. Not copyable or movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "class_registry.hpp"

namespace lockdep::detail {

// One step of a path found by the search: a class and the trace of the edge that reached it.
struct path_step {
  class_index lock_class;
  std::uint32_t trace;  // no trace for the first step (the search root)
};

class dependency_graph {
 public:
  dependency_graph(class_registry& classes, std::size_t max_dependencies);
  dependency_graph(const dependency_graph&) = delete;
  dependency_graph& operator=(const dependency_graph&) = delete;

  // Searches for a strong path from `start` (being acquired with `start_access`) to `target`
  // (held with `target_access`): with the new edge target --> start it would close a cycle.
  // Returns the path, start first and target last; empty when there is none.
  std::vector<path_step> find_cycle_path(class_index start, lock_access start_access,
                                         class_index target, lock_access target_access);

  // The forward edge from --> to, or nullptr.
  dependency* find(class_index from, class_index to);
  // Records another occurrence of the existing edge `forward` (found by find(), into `to`):
  // more access kinds, a shorter distance.
  void note(dependency& forward, class_index to, std::uint8_t types, unsigned distance);
  // Adds a new edge; false when the dependency table is full (MAX_LOCKDEP_ENTRIES).
  bool insert(class_index from, class_index to, std::uint8_t types, unsigned distance,
              std::uint32_t trace);
  // Removes every edge into or out of `index`.
  void remove_class(class_index index);

  std::size_t size() const { return count_; }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t searches() const { return searches_; }
  void clear();

 private:
  struct search_node {
    class_index lock_class;
    bool only_recursive;  // every edge into it was a recursive-read acquisition (xR)
    std::int32_t parent;  // index into queue_, -1 for the root
    std::uint32_t trace;
  };
  bool visit(class_index index, bool only_recursive);

  class_registry& classes_;
  std::size_t capacity_;
  std::size_t count_ = 0;
  std::uint64_t searches_ = 0;
  std::vector<search_node> queue_;
  // Per class, the search generation that reached it by a strong-ending path / by any path;
  // grown to the registry's end_index() as classes are added.
  std::vector<std::uint64_t> reached_strong_;
  std::vector<std::uint64_t> reached_any_;
};

}  // namespace lockdep::detail

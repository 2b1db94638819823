// stack_store: deduplicated storage for stack traces, addressed by a small id. Like the kernel's
// stack depot, a trace recorded twice is stored once: every new dependency records the trace of
// its first sighting, and dependencies first seen from one call site share one trace.
//
// Frames live in one array, one trace after the other; an open-addressing index over the traces'
// hashes finds a trace already stored. Bounded by `max_entries` frames in total.
//
// Not thread-safe: the validator uses it under its graph lock. Not copyable; movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace lockdep::detail {

class stack_store {
 public:
  using trace_id = std::uint32_t;
  static constexpr trace_id no_trace = 0;  // "no trace" and the answer when the store is full

  explicit stack_store(std::size_t max_entries);
  stack_store(const stack_store&) = delete;
  stack_store& operator=(const stack_store&) = delete;
  stack_store(stack_store&&) = default;
  stack_store& operator=(stack_store&&) = default;

  // The id of this trace, storing it if it is new; no_trace when storing it would exceed the
  // entry budget (the caller reports MAX_STACK_TRACE_ENTRIES) or when `frames` is empty.
  trace_id intern(std::span<const std::uintptr_t> frames);
  // The frames of a stored trace; empty for no_trace or an unknown id. Valid until the next
  // intern() or clear().
  std::span<const std::uintptr_t> frames(trace_id id) const;

  std::size_t entries_used() const { return frames_.size(); }
  std::size_t max_entries() const { return max_entries_; }
  std::size_t trace_count() const { return traces_.size(); }
  void clear();

 private:
  struct stored_trace {
    std::uint32_t first;  // index into frames_
    std::uint32_t length;
  };
  // One slot of the index: a trace's hash and id; id no_trace marks an empty slot.
  struct index_slot {
    std::uint64_t hash = 0;
    trace_id id = no_trace;
  };

  // The index slot holding this trace, or the empty slot where it would go.
  index_slot& find_slot(std::uint64_t hash, std::span<const std::uintptr_t> frames);
  // Doubles the index (kept at most half full, so probes stay short).
  void grow_index();

  std::size_t max_entries_;
  std::vector<std::uintptr_t> frames_;
  std::vector<stored_trace> traces_;  // id - 1 indexes this
  std::vector<index_slot> index_;     // a power of two in size, or empty before the first trace
};

}  // namespace lockdep::detail

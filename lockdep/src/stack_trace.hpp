// Stack traces: capture (libunwind), a deduplicating store (the kernel's stack depot), and
// symbolization into `stack_frame`s (dladdr and libunwind for names, elfutils' libdwfl for
// source lines).
//
// Capture and symbolization are thread-safe. `stack_store` is not: the validator uses it under
// its graph lock. Nothing here uses instrumented locks, so the validator can call it while it
// validates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "lockdep/report.hpp"

namespace lockdep::detail {

// Writes the return addresses of the calling thread's stack, innermost first, into `out`,
// skipping `skip` innermost frames (capture_stack's own frame is never included). Returns how
// many were written. Does not allocate.
std::size_t capture_stack(std::uintptr_t* out, std::size_t max_frames, std::size_t skip = 0);

// Deduplicated storage for traces, addressed by a small id. Like the kernel's stack depot, a
// trace recorded twice is stored once. Bounded by `max_entries` frames in total. Not
// thread-safe. Not copyable; movable.
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
  std::size_t max_entries_;
  std::vector<std::uintptr_t> frames_;
  std::vector<stored_trace> traces_;  // id - 1 indexes this
  std::unordered_multimap<std::uint64_t, trace_id> by_hash_;
};

// Symbolizes one code address. `is_return_address` says the address is a return address, so the
// call instruction is at address - 1: symbol lookup uses address - 1 (a call at the very end of
// a function must not be attributed to the next one) while `offset` is reported from `address`,
// as the kernel does. `file` and `line` come from the DWARF line table of the object containing
// the address (its own debug sections, or a separate debug file found by build ID under
// /usr/lib/debug; no debuginfod), for the same looked-up address; empty when there is none. The
// first frame that needs them lists the process's objects, and a frame in an object loaded
// since lists them again. Thread-safe; results are cached.
stack_frame symbolize(std::uintptr_t address, bool is_return_address = true);
stack_trace symbolize(std::span<const std::uintptr_t> addresses);

// fork(): held across it (see lock_for_fork) so a child never inherits the cache's lock taken.
void lock_symbol_cache_for_fork();
void unlock_symbol_cache_after_fork();

// The demangled form of a C++ symbol without its parameter list, return type or cv/ref
// qualifiers: "_ZN7lockdep5mutex4lockEv" -> "lockdep::mutex::lock". Non-C++ names unchanged.
std::string readable_function_name(const char* symbol);

}  // namespace lockdep::detail

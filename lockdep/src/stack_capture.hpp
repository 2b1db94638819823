// Stack capture: the return addresses of the calling thread's stack (libunwind), raw, for the
// validator's critical path. symbolization.hpp turns them into frames later, outside it.
//
// Thread-safe. Nothing here allocates or uses instrumented locks, so the validator can call it
// while it validates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lockdep::detail {

// Writes the return addresses of the calling thread's stack, innermost first, into `out`,
// skipping `skip` innermost frames (capture_stack's own frame is never included). Returns how
// many were written. Does not allocate.
std::size_t capture_stack(std::uintptr_t* out, std::size_t max_frames, std::size_t skip = 0);

// The most frames current_raw_stack() walks.
inline constexpr std::size_t max_captured_frames = 128;
// The raw frames of the current stack, innermost first, starting at the lock function called
// from `ip` (the frame before the caller's), so that validator internals never show; the stack
// as it is if `ip` is null or not on it. Writes at most `max_frames` (at most
// max_captured_frames) into `out` and returns how many. Does not allocate.
std::size_t current_raw_stack(const void* ip, std::uintptr_t* out, std::size_t max_frames);

}  // namespace lockdep::detail

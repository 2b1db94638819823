// Stack traces: capture (libunwind) and symbolization into `stack_frame`s (dladdr and
// libunwind for names, elfutils' libdwfl for source lines). stack_store.hpp keeps them.
//
// Capture and symbolization are thread-safe. Nothing here uses instrumented locks, so the
// validator can call it while it validates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lockdep/report.hpp"

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

// Symbolizes one code address. `is_return_address` says the address is a return address, so the
// call instruction is at address - 1: symbol lookup uses address - 1 (a call at the very end of
// a function must not be attributed to the next one) while `offset` is reported from `address`,
// as the kernel does. `file`, `line` and `inlined` come from the DWARF line table and scopes of
// the object containing the address (its own debug sections, or a separate debug file found by
// build ID under /usr/lib/debug; no debuginfod), for the same looked-up address; empty when
// there are none. The first frame that needs them lists the process's objects, and a frame in
// an object loaded since lists them again. Thread-safe; results are cached.
stack_frame symbolize(std::uintptr_t address, bool is_return_address = true);
stack_trace symbolize(std::span<const std::uintptr_t> addresses);

// fork(): held across it (see lock_for_fork) so a child never inherits the cache's lock taken.
void lock_symbol_cache_for_fork();
void unlock_symbol_cache_after_fork();

// The demangled form of a C++ symbol without its parameter list, return type or cv/ref
// qualifiers: "_ZN7lockdep5mutex4lockEv" -> "lockdep::mutex::lock". Non-C++ names unchanged.
std::string readable_function_name(const char* symbol);

}  // namespace lockdep::detail

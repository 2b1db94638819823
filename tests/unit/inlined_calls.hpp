// Code compiled with optimisation (-O2 -g, see tests/CMakeLists.txt) in which a lock call and a
// stack capture sit inside two always_inline helpers, inlined into a noinline function: the shape
// of std::lock_guard around lockdep::mutex::lock in a user's function. source_lines_test.cpp
// checks that frames there name both helpers and the line in the noinline function.
#pragma once

#include <cstdint>

#include "lockdep/mutex.hpp"

namespace inlined_calls {

// Where each function of a chain makes its call, counted with __LINE__ in inlined_calls.cpp: the
// answers a test expects, read from the source rather than from the symbolizer under test.
struct call_lines {
  unsigned innermost;  // the lock (or capture) call, in the innermost helper
  unsigned middle;     // the call to the innermost helper, in the middle one
  unsigned outer;      // the call to the middle helper, in the noinline function
};

extern const call_lines lock_lines;
// Locks `lock` through take_through() and take_innermost(): lock() returns into this function's
// code, inside both.
void lock_inlined(lockdep::mutex& lock);

extern const call_lines capture_lines;
// The return address of a stack capture made through capture_through() and
// capture_innermost(): an address in this function's code, inside both.
std::uintptr_t return_address_inlined();

// The return address of a stack capture made in a lambda inlined into this function: GCC gives a
// lambda's operator() no linkage name, so its qualified name must come from its scopes.
std::uintptr_t return_address_in_lambda();

}  // namespace inlined_calls

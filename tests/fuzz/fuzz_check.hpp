// How a fuzz target fails an input: libFuzzer keeps an input as a crash when the process
// aborts, so a property that does not hold prints what went wrong and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace lockdep_fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "\nlockdep fuzz check failed: %s\n", what.c_str());
  std::abort();
}

// Takes the message as a C string so that a check that holds costs no allocation.
inline void require(bool holds, const char* what) {
  if (!holds) fail(what);
}

}  // namespace lockdep_fuzz

// Addresses of functions in loaded shared libraries and in the program, for tests that
// symbolize them.
#pragma once

#include <dlfcn.h>

#include <cstdint>

namespace lockdep_test {

// Asks the library itself rather than the global scope, where sanitizers interpose functions
// like strlen with their own.
inline std::uintptr_t address_in(const char* library, const char* exported_name) {
  void* const handle = dlopen(library, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return 0;
  const auto address = reinterpret_cast<std::uintptr_t>(dlsym(handle, exported_name));
  dlclose(handle);
  return address;
}

template <typename Function>
std::uintptr_t address_of(Function* function) {
  return reinterpret_cast<std::uintptr_t>(function);
}

}  // namespace lockdep_test

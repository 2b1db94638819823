// Whose code a line of a trace is: the C++ standard library's (and the C library's and the
// loader's), or the program's. Reports fold the first and name a lock after the second.
#pragma once

#include <array>
#include <string_view>

namespace lockdep::detail {

// The runtime libraries every program runs on, by the module name a frame carries.
inline bool is_runtime_module(std::string_view module) {
  constexpr std::array<std::string_view, 7> runtimes{
      "libc", "libstdc++", "libc++", "libc++abi", "libpthread", "libgcc_s", "ld-linux-x86-64"};
  for (std::string_view runtime : runtimes) {
    if (module == runtime) return true;
  }
  return false;
}

// C++ standard library code: its functions (libstdc++'s thread layer, __gthread_*, too), and
// the code of libstdc++ or libc++ themselves.
inline bool is_standard_library(std::string_view function, std::string_view module) {
  return function.starts_with("std::") || function.starts_with("__gnu_cxx::") ||
         function.starts_with("__gthread_") || module.starts_with("libstdc++") ||
         module.starts_with("libc++");
}

// Code the program did not write: the standard library, the runtime libraries, and what the
// system's headers define (inlined or instantiated into the program).
inline bool is_library_code(std::string_view function, std::string_view file,
                            std::string_view module) {
  return is_standard_library(function, module) || is_runtime_module(module) ||
         file.starts_with("/usr/include/");
}

}  // namespace lockdep::detail

// Function names as a report prints them: demangled, without what the kernel's `%pS` would not
// show either.
#pragma once

#include <string>

namespace lockdep::detail {

// The demangled form of a C++ symbol without its parameter list, return type or cv/ref
// qualifiers: "_ZN7lockdep5mutex4lockEv" -> "lockdep::mutex::lock". Non-C++ names unchanged;
// variables demangled whole ("_ZN12_GLOBAL__N_15statsE" -> "(anonymous namespace)::stats").
std::string readable_function_name(const char* symbol);

}  // namespace lockdep::detail

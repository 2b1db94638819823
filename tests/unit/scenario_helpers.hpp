// Small helpers shared by the scenario tests.
#pragma once

#include <string>
#include <vector>

#include "lockdep/report.hpp"

namespace lockdep_test {

// Lock a then b, then unlock both (the kernel selftests' LOCK_UNLOCK_2).
template <class A, class B>
void lock_unlock_2(A& a, B& b) {
  a.lock();
  b.lock();
  b.unlock();
  a.unlock();
}

inline std::vector<std::string> names(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

}  // namespace lockdep_test

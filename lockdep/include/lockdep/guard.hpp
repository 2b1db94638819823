// lockdep::guard: std::lock_guard with Clang thread-safety annotations, so that
// -Wthread-safety can check code that uses lockdep's lock types (libstdc++'s lock_guard is not
// annotated). Works with any lockdep lock type, validated or not. Not copyable or movable.
#pragma once

#include "lockdep/config.hpp"

namespace lockdep {

template <class Lock>
class LOCKDEP_SCOPED_CAPABILITY guard {
 public:
  explicit guard(Lock& lock) LOCKDEP_ACQUIRE(lock) : lock_(lock) { lock_.lock(); }
  ~guard() LOCKDEP_RELEASE() { lock_.unlock(); }
  guard(const guard&) = delete;
  guard& operator=(const guard&) = delete;

 private:
  Lock& lock_;
};

}  // namespace lockdep

// An instrumented spinlock (the kernel's spinlock_t): a test-and-test-and-set lock that spins,
// validated like lockdep::mutex. Lockable. Not copyable or movable.
#pragma once

#include <atomic>

#include "lockdep/instrumented_lock.hpp"

namespace lockdep {

class spinlock : public instrumented_lock {
 public:
  // Declared here, not inherited: the default argument must name the user's line, not ours.
  constexpr spinlock(std::source_location where = std::source_location::current())
      : instrumented_lock(where) {}
  using instrumented_lock::instrumented_lock;

  void lock();
  void lock_nested(unsigned subclass);
  // On behalf of a wrapper whose caller is `ip` (see lockdep::mutex::lock_from).
  void lock_from(const void* ip);
  bool try_lock();
  void unlock();

 private:
  void spin_until_acquired();
  std::atomic<bool> locked_{false};
};

}  // namespace lockdep

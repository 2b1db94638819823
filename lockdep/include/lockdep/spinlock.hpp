// An instrumented spinlock (the kernel's spinlock_t): a test-and-test-and-set lock that spins,
// validated like lockdep::mutex. Lockable. Not copyable or movable.
#pragma once

#include "lockdep/config.hpp"
#include "lockdep/source_location.hpp"

#if !LOCKDEP_ENABLED
#include "lockdep/unvalidated.hpp"
#else

#include <atomic>

#include "lockdep/instrumented_lock.hpp"

namespace lockdep {

class LOCKDEP_CAPABILITY("mutex") spinlock : public instrumented_lock {
 public:
  // Declared here, not inherited: the default argument must name the user's line, not ours.
  constexpr spinlock(lockdep::source_location where = lockdep::source_location::current())
      : instrumented_lock(where) {}
  using instrumented_lock::instrumented_lock;
  // Reports (held lock freed) if the calling thread holds it, with the whole object's range.
  ~spinlock();

  void lock() LOCKDEP_ACQUIRE();
  void lock_nested(unsigned subclass) LOCKDEP_ACQUIRE();
  // On behalf of a wrapper whose caller is `ip` (see lockdep::mutex::lock_from).
  void lock_from(const void* ip) LOCKDEP_ACQUIRE();
  bool try_lock() LOCKDEP_TRY_ACQUIRE(true);
  void unlock() LOCKDEP_RELEASE();

 private:
  void spin_until_acquired();
  std::atomic<bool> locked_{false};
  exclusive_owner owner_;
};

}  // namespace lockdep

#endif  // LOCKDEP_ENABLED

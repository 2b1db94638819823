// lock_map: what the validator knows about one lock instance (the kernel's struct lockdep_map).
//
// Every instrumented lock embeds one. A lock_map with no lock behind it is a pseudo-lock, taken
// and released only for validation: the kernel's `fs_reclaim` map, or a map standing for "this
// code may wait for X". Its acquire()/release() members make it Lockable, so
// std::lock_guard<lockdep::lock_map> works.
//
// Class selection:
//   lock_map{}                  one class for this instance alone, named after the place the
//                               lock was constructed ("file.cpp:42"). Never merges two locks.
//   lock_map{"fs_reclaim"}      one class for this instance alone, with that name (a static
//                               pseudo-lock such as fs_reclaim)
//   lock_map{key}               the class of `key`, shared by every lock constructed with it
//
// Thread safety: acquire/release/queries may be called from any thread, as for the lock itself.
// set_class() must not race with use of the lock. Neither copyable nor movable (its address
// identifies the lock).
#pragma once

#include "lockdep/config.hpp"
#include "lockdep/source_location.hpp"

#if !LOCKDEP_ENABLED
#include "lockdep/unvalidated.hpp"
#else

#include <atomic>
#include <cstdint>

#include "lockdep/lock_class_key.hpp"
#include "lockdep/report.hpp"

namespace lockdep {

// A lock whose lock_map is kept apart from it (the LD_PRELOAD library keeps the maps of a
// program's pthread locks in a table of its own): where the lock really is, and the call that
// initialised it, from which reports name a lock the program gave no name. Its keeper keeps it
// alive as long as the map.
struct lock_origin {
  const void* object = nullptr;          // the lock's address in the program
  const void* initialised_at = nullptr;  // return address of its init call; nullptr: none seen
};

inline constexpr unsigned max_subclasses = 8;  // MAX_LOCKDEP_SUBCLASSES

class LOCKDEP_CAPABILITY("mutex") lock_map {
 public:
  constexpr lock_map(lockdep::source_location where = lockdep::source_location::current())
      : where_(where) {}
  constexpr explicit lock_map(const char* name,
                              lockdep::source_location where = lockdep::source_location::current())
      : name_(name), where_(where) {}
  constexpr explicit lock_map(lock_class_key& key, unsigned subclass = 0)
      : key_(&key), name_(key.name()), default_subclass_(subclass) {}
  // A map kept apart from its lock, with a class for that lock alone, named in reports after
  // the lock's variable or the source line of `origin.initialised_at` (or of its first locking).
  constexpr explicit lock_map(const lock_origin& origin) : origin_(&origin) {}
  lock_map(const lock_map&) = delete;
  lock_map& operator=(const lock_map&) = delete;
  // Forgets this instance's own class (if it has one) and reports a destroyed held lock.
  ~lock_map();

  // Moves the (unheld) lock to the class of `key` (the kernel's lockdep_set_class_and_subclass).
  void set_class(lock_class_key& key, unsigned subclass = 0);

  // Pseudo-lock operations: validate as a blocking acquisition, then record as held.
  void acquire(unsigned subclass = 0) LOCKDEP_ACQUIRE();
  void acquire_read() LOCKDEP_ACQUIRE_SHARED();  // recursive read (lock_map_acquire_read)
  bool try_acquire() LOCKDEP_TRY_ACQUIRE(true);  // validated as a trylock; always succeeds
  void release() LOCKDEP_RELEASE();
  void lock() LOCKDEP_ACQUIRE() { acquire(); }
  void unlock() LOCKDEP_RELEASE() { release(); }

  // The name given at construction or by the key; nullptr for an unnamed per-instance map.
  const char* name() const { return name_; }
  const lockdep::source_location& where() const { return where_; }
  unsigned default_subclass() const { return default_subclass_; }
  // The lock's address in the program: the origin's object, else this map's (it is inside its
  // lock).
  const void* lock_address() const {
    return origin_ != nullptr ? origin_->object : static_cast<const void*>(this);
  }
  const lock_origin* origin() const { return origin_; }
  // What identifies the class: the key's address, or this map's own address.
  const void* class_identity() const {
    return key_ != nullptr ? static_cast<const void*>(key_) : static_cast<const void*>(this);
  }
  bool has_own_class() const { return key_ == nullptr; }

 private:
  friend struct lock_map_access;

  const lock_class_key* key_ = nullptr;
  const char* name_ = nullptr;
  lockdep::source_location where_{};
  const lock_origin* origin_ = nullptr;
  unsigned default_subclass_ = 0;
  // Class index per subclass (0 = not looked up yet): lets the fast path skip the class table
  // lookup. Validated against the class's key before use, so a stale entry is harmless.
  std::atomic<std::uint32_t> class_cache_[max_subclasses] = {};
};

}  // namespace lockdep

#endif  // LOCKDEP_ENABLED

// The per-thread stack of held locks (the kernel's task_struct held_locks[] and friends).
//
// Each thread owns its state; no other thread reads or writes it, so it needs no
// synchronization. The held-lock array is allocated on the thread's first lock (sized by
// max_lock_depth) and freed when the thread exits, after the exit check.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "chain_key.hpp"
#include "fast_path_view.hpp"
#include "lock_class.hpp"
#include "lockdep/lock_map.hpp"
#include "lockdep/report.hpp"
#include "other_validator.hpp"

namespace lockdep::detail {

struct held_lock {
  std::uint64_t prev_chain_key;  // the thread's chain key before this lock was pushed
  const void* acquire_ip;
  lock_map* instance;
  class_index lock_class;
  std::uint8_t subclass;
  lock_access access;
  bool trylock;
  bool check;
};

struct waiting_record;  // hang_watchdog.hpp

// The depth of a thread's held-lock stack. Only its thread changes it, but the hang watchdog
// reads it from another (to say how many locks a running thread holds), so it is atomic; every
// access is relaxed, which is a plain move on x86: the same code as a plain integer.
class held_depth {
 public:
  constexpr held_depth() = default;
  held_depth(const held_depth&) = delete;
  held_depth& operator=(const held_depth&) = delete;

  operator std::uint32_t() const { return value_.load(std::memory_order_relaxed); }
  held_depth& operator=(std::uint32_t depth) {
    value_.store(depth, std::memory_order_relaxed);
    return *this;
  }
  held_depth& operator++() { return *this = *this + 1; }
  held_depth& operator--() { return *this = *this - 1; }

 private:
  std::atomic<std::uint32_t> value_{0};
};

struct thread_lock_state {
  std::uint64_t chain_key = initial_chain_key;
  held_depth depth;
  std::uint32_t max_depth = 0;  // the depth limit; 0 until `held` is allocated
  // Nonzero while this thread's lock calls are to be ignored: inside the validator (busy_scope),
  // inside validation_off_scope, or after the thread-exit check. One word, so the fast path
  // tests one thing.
  std::uint32_t suppressed = 0;
  bool exiting = false;  // thread-exit check done (also counted in `suppressed`)
  // The validator generation this state belongs to; 0 before it is set up and after the thread
  // exit check, so the fast path (which compares it with the epoch) stays closed then.
  std::uint64_t generation = 0;
  held_lock* held = nullptr;
  // Locks the thread held when a testing reset forgot everything: releasing one of them is
  // not an imbalance. Allocated only when there are some.
  std::vector<const lock_map*>* held_before_reset = nullptr;
  // Where the thread publishes that it waits for a lock, for the hang watchdog; only while the
  // watchdog runs.
  waiting_record* waiting = nullptr;
  // Acquisitions whose chain was in the cache (/proc/lockdep_stats' chain lookup hits). Only
  // this thread writes it, with a plain load and store (no locked instruction); snapshots sum
  // every live thread's (see chain_lookup_hits()), hence atomic.
  std::atomic<std::uint64_t> chain_hits{0};
  bool counted = false;      // registered for chain_lookup_hits()
  bool end_watched = false;  // the thread-end check is armed (held_lock_stack.cpp)

  bool ignored() const { return suppressed != 0; }
};

// Zero-initialized and trivially destructible, so access needs no TLS wrapper call. The
// initial-exec model makes it one %fs-relative address even when the library is a shared
// object (the LD_PRELOAD build) instead of a __tls_get_addr call per lock operation; the cost is
// a few dozen bytes of the static TLS block, which a library loaded at startup always has.
extern constinit thread_local thread_lock_state current_thread_lock_state
    [[gnu::tls_model("initial-exec"), gnu::visibility("hidden")]];

inline thread_lock_state& this_thread_state() {
  return current_thread_lock_state;
}

bool prepare_thread_state_slow(thread_lock_state& state);
// Creates the pthread key whose destructor runs the thread-end check, if not done yet (it is
// otherwise created with the first lock use). Early, a key has a low index, and glibc stores
// a low key's value without allocating: the preload creates it at load, as setting the value
// happens inside the program's pthread calls.
void create_thread_end_key();

// Counts a chain-cache hit for this thread: no shared cache line is written.
inline void count_chain_hit(thread_lock_state& state) {
  state.chain_hits.store(state.chain_hits.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
}
// Every thread's chain-cache hits since the process started: the live threads' and the exited.
std::uint64_t chain_lookup_hits();
// fork(): the registry of threads' counters is held across it (see lock_for_fork).
void lock_thread_counters_for_fork();
void unlock_thread_counters_after_fork();

// True (and forgets it) if `map` was held by this thread before the last testing reset.
bool forget_held_before_reset(thread_lock_state& state, const lock_map& map);
// Forgets every lock in [from, from + size) held before the last reset: the memory is being
// freed, and a new lock there must not inherit the exemption.
void forget_held_before_reset(thread_lock_state& state, const void* from, std::size_t size);

// Drops, without a report, the thread's held entries for locks inside [from, from + size): the
// memory is being freed while the validator is off (it no longer checks, but the entries must
// not outlive the locks: a testing reset would keep them, and a new lock at the same address
// would inherit their exemption).
void drop_held_locks_in(thread_lock_state& state, const void* from, std::size_t size);

// Makes the thread's state usable for the current validator generation: allocates the held-lock
// array on first use and registers the thread-exit check; drops held locks recorded before a
// testing reset. False if the state cannot be used (the thread is exiting).
inline bool prepare_thread_state(thread_lock_state& state) {
  if (state.held != nullptr &&
      state.generation == validator_generation.load(std::memory_order_relaxed)) [[likely]] {
    return true;
  }
  return prepare_thread_state_slow(state);
}

// Marks the thread as inside the validator for the scope's lifetime (for an LD_PRELOAD
// validator in the same process too: other_validator.hpp).
class busy_scope {
 public:
  explicit busy_scope(thread_lock_state& state) : state_(state) {
    ++state_.suppressed;
    enter_other_validator_work();
  }
  ~busy_scope() {
    leave_other_validator_work();
    --state_.suppressed;
  }
  busy_scope(const busy_scope&) = delete;
  busy_scope& operator=(const busy_scope&) = delete;

 private:
  thread_lock_state& state_;
};

}  // namespace lockdep::detail

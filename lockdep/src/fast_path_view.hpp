// What the lock-free fast path reads of the validator's shared state, on one cache line: whether
// validation is on (and in which reset generation), where the class identities and the chain
// cache are, and whether the hang watchdog is armed. Written only when validation turns off, a
// testing reset rebuilds the tables or the options change, so the line stays shared-clean in
// every core's cache, and each table is one load away instead of a walk through
// validator_core's owning pointers.
#pragma once

#include <atomic>
#include <cstdint>

namespace lockdep::detail {

// The epoch of a validator that turned itself off: never a generation, so no thread's state
// matches it and every lock call takes the full path, which sees that validation is off.
inline constexpr std::uint64_t validation_off_epoch = ~std::uint64_t{0};

struct alignas(64) fast_path_view {
  // The current generation while validation is on; validation_off_epoch once it is off. A
  // thread whose state carries this generation and is not suppressed may use the fast path.
  std::atomic<std::uint64_t> epoch{1};
  // Class identities by class index (class_registry's dense mirror), valid up to class_limit.
  std::atomic<const std::atomic<const void*>*> class_identities{nullptr};
  std::atomic<std::uint32_t> class_limit{0};
  // The chain cache's current table (chain_cache::contains_near reads it without locks).
  std::atomic<std::uintptr_t> chain_table{0};
  // Whether a hang timeout is set (hang_watchdog.hpp). Every blocking lock call reads it before
  // the rest of this line, so it lives here rather than on a line of its own.
  std::atomic<bool> hang_watchdog_armed{false};
};

// Hidden: internal to the library, so code in it reaches the view directly rather than through
// the global offset table.
[[gnu::visibility("hidden")]] inline constinit fast_path_view fast_view;

// The generation of the tables: bumped by every testing reset, so threads drop what they held
// before it. Kept apart from the epoch because it must survive validation turning off.
inline std::atomic<std::uint64_t> validator_generation{1};

inline bool validation_is_on() {
  return fast_view.epoch.load(std::memory_order_relaxed) != validation_off_epoch;
}

// The kernel's debug_locks_off(): every later lock call returns at once.
inline void turn_validation_off() {
  fast_view.epoch.store(validation_off_epoch, std::memory_order_relaxed);
}

}  // namespace lockdep::detail

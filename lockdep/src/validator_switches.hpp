// The two global atomics every acquisition reads without a lock: whether validation is on, and
// the reset generation (bumped by testing resets, so threads drop what they held before).
// Written rarely, so they stay shared-clean in every core's cache.
#pragma once

#include <atomic>
#include <cstdint>

namespace lockdep::detail {

inline std::atomic<bool> validation_on{true};
inline std::atomic<std::uint64_t> validator_generation{1};

}  // namespace lockdep::detail

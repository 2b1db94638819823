// A lock class: the unit the validator reasons about. Every lock instance created with the same
// key (and subclass) shares one, and so shares what was learnt about lock order.
//
// The field read by the lock-free fast path is atomic (usage); the identity lives in
// class_registry's dense mirror; everything else is owned by the graph lock. Not copyable or
// movable: classes live in a fixed table and are referred to by index.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dependency_list.hpp"
#include "lockdep/report.hpp"

namespace lockdep::detail {

// Dependency types, as the kernel's lock_list.dep bits: (S)hared or (E)xclusive holder, then
// (R)ecursive-read or (N)on-recursive acquirer.
enum dependency_bits : std::uint8_t {
  dep_shared_recursive = 1 << 0,        // SR
  dep_exclusive_recursive = 1 << 1,     // ER
  dep_shared_nonrecursive = 1 << 2,     // SN
  dep_exclusive_nonrecursive = 1 << 3,  // EN
  dep_from_shared = dep_shared_recursive | dep_shared_nonrecursive,
  dep_to_nonrecursive = dep_shared_nonrecursive | dep_exclusive_nonrecursive,
};

constexpr std::uint8_t dependency_type(lock_access holder, lock_access acquirer) {
  unsigned bit = (holder == lock_access::exclusive ? 1u : 0u) +
                 (acquirer != lock_access::shared_recursive ? 2u : 0u);
  return static_cast<std::uint8_t>(1u << bit);
}

// Usage bits: the kernel's, with userspace meaning. We model no interrupt contexts, so locks are
// only ever "acquired with interrupts enabled": write or read.
enum usage_bits : std::uint32_t {
  usage_enabled_hardirq = 1 << 2,
  usage_enabled_hardirq_read = 1 << 3,
  usage_enabled_softirq = 1 << 6,
  usage_enabled_softirq_read = 1 << 7,
  usage_used = 1 << 8,
  usage_used_read = 1 << 9,
  usage_write = usage_enabled_hardirq | usage_enabled_softirq | usage_used,
  usage_read = usage_enabled_hardirq_read | usage_enabled_softirq_read | usage_used_read,
};

// `{+.+.}`: per state (hardirq, softirq) a write and a read character.
std::string usage_string(std::uint32_t usage);

struct lock_class {
  std::atomic<std::uint32_t> usage{0};
  std::uint8_t subclass = 0;
  std::string_view name;              // base name, without #N or /N (the registry keeps it)
  unsigned name_version = 0;          // the kernel's name_version: 1 prints no #N suffix
  dependency_list after;              // locks taken while holding this one
  dependency_list before;             // locks held while this one was taken
  std::vector<std::uint32_t> chains;  // chain ids containing this class (may be stale)
  // A class standing for one lock the program gave no name (an LD_PRELOAD lock, a lockdep lock
  // constructed without key or name): the lock's address, and in the stack store the call that
  // initialised it, else the stack that first locked it (none: named after its construction
  // site). Reports name the class from them when delivered. nullptr for named classes.
  const void* unnamed_lock = nullptr;
  std::uint32_t first_use_trace = 0;
  // The first use is this lock's first dependency's trace, once recorded (see note_first_use).
  bool first_use_pending = false;

  // "&type->s_umount_key#43/1"
  std::string printable_name() const;
};

// Records that the class was acquired this way. Lock-free; writes only the first time.
inline void mark_usage(lock_class& used, lock_access access) {
  std::uint32_t bits = access == lock_access::exclusive ? usage_write : usage_read;
  if ((used.usage.load(std::memory_order_relaxed) & bits) != bits) {
    used.usage.fetch_or(bits, std::memory_order_relaxed);
  }
}

}  // namespace lockdep::detail

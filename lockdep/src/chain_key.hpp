// The 64-bit key of a lock chain: a hash folded over the held locks' (class, read) ids, exactly
// as the kernel's iterate_chain_key() does (Bob Jenkins' lookup3 mix), so equal sequences of
// held classes get equal keys whatever the lock instances.
#pragma once

#include <cstdint>

#include "lockdep/report.hpp"

namespace lockdep::detail {

inline constexpr std::uint64_t initial_chain_key = ~std::uint64_t{0};

constexpr std::uint32_t rotate_left(std::uint32_t word, unsigned shift) {
  return (word << shift) | (word >> (32 - shift));
}

// The read type is part of the id: a chain validated with a read lock must not vouch for the
// same classes taken for write.
constexpr std::uint32_t held_lock_id(std::uint32_t class_index, lock_access access) {
  return (class_index << 2) | static_cast<std::uint32_t>(access);
}

constexpr std::uint64_t iterate_chain_key(std::uint64_t key, std::uint32_t id) {
  std::uint32_t a = id;
  std::uint32_t b = static_cast<std::uint32_t>(key);
  std::uint32_t c = static_cast<std::uint32_t>(key >> 32);
  a -= c;
  a ^= rotate_left(c, 4);
  c += b;
  b -= a;
  b ^= rotate_left(a, 6);
  a += c;
  c -= b;
  c ^= rotate_left(b, 8);
  b += a;
  a -= c;
  a ^= rotate_left(c, 16);
  c += b;
  b -= a;
  b ^= rotate_left(a, 19);
  a += c;
  c -= b;
  c ^= rotate_left(b, 4);
  b += a;
  return b | (std::uint64_t{c} << 32);
}

}  // namespace lockdep::detail

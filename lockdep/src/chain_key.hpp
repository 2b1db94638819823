// The 64-bit key of a lock chain: a hash folded over the held locks' (class, read) ids, so
// equal sequences of held classes get equal keys whatever the lock instances. The kernel folds
// with Bob Jenkins' lookup3 mix; this fold is two multiplies and one xor-shift a step, since it
// runs on every acquisition. Like the kernel, the cache trusts the key to tell chains apart (63
// of its bits: chain_cache reserves the low one), and it finds a chain's home slot from the
// key's high bits, which are the products' best mixed.
#pragma once

#include <cstdint>

#include "lockdep/report.hpp"

namespace lockdep::detail {

inline constexpr std::uint64_t initial_chain_key = ~std::uint64_t{0};

// The read type is part of the id: a chain validated with a read lock must not vouch for the
// same classes taken for write.
constexpr std::uint32_t held_lock_id(std::uint32_t class_index, lock_access access) {
  return (class_index << 2) | static_cast<std::uint32_t>(access);
}

// For a given id the step is a bijection of the key (odd multiply, xor, xor-shift), so two
// chains differing in one earlier lock keep different keys. The id is spread over 64 bits by a
// multiply of its own, computed beside the key's: keys x and y then collide at the next step
// only if x*K and y*K differ by exactly the two ids' spread values, as unlikely as any other
// 64-bit value (with the id xored in plain, keys differing only in their low bits would collide
// for some pair of ids). The xor-shift folds the product's high bits into its low ones, which
// the next step's multiply spreads upwards again.
constexpr std::uint64_t iterate_chain_key(std::uint64_t key, std::uint32_t id) {
  std::uint64_t mixed =
      (key * 0xd6e8feb86659fd93ull) ^ (std::uint64_t{id} * 0x9e3779b97f4a7c15ull);
  return mixed ^ (mixed >> 32);
}

}  // namespace lockdep::detail

// The 64-bit key of a lock chain: a hash folded over the held locks' (class, read) ids, so
// equal sequences of held classes get equal keys whatever the lock instances. The kernel folds
// with Bob Jenkins' lookup3 mix; this fold uses a multiply/xor-shift mix with full avalanche
// (every input bit affects every output bit) in about a quarter of the instructions, since it
// runs on every acquisition. Like the kernel, the cache trusts the key to tell chains apart (63
// of its bits: chain_cache reserves the top one).
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

// For a given id the step is a bijection of the key (xor, odd multiply, xor-shift), so two
// chains differing in one earlier lock keep different keys. The id is spread over 64 bits
// before it is combined: with a plain xor, keys differing only in their low 32 bits would
// collide for some pair of ids about once in 2^32 pairs.
constexpr std::uint64_t iterate_chain_key(std::uint64_t key, std::uint32_t id) {
  std::uint64_t mixed = key ^ (std::uint64_t{id} * 0x9e3779b97f4a7c15ull);
  mixed *= 0xd6e8feb86659fd93ull;
  mixed ^= mixed >> 32;
  mixed *= 0x94d049bb133111ebull;
  return mixed ^ (mixed >> 29);
}

}  // namespace lockdep::detail

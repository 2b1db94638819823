#include "stack_store.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>

namespace lockdep::detail {

namespace {

std::uint64_t splitmix64_finalize(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

// One rotate, xor and multiply per value (the multiply mixes, the rotate makes the result depend
// on the order).
std::uint64_t mix_in(std::uint64_t hash, std::uint64_t value) {
  return (std::rotl(hash, 23) ^ value) * golden_gamma;
}

std::uint64_t hash_frames(std::span<const std::uintptr_t> frames) {
  // Frame i goes into lane i % 4, and the lanes are mixed together once at the end: each lane's
  // multiplies wait only on that lane's, where one chain through every frame made a 30-frame
  // trace cost 30 multiply latencies on every new dependency. Distinct seeds keep a frame's
  // lane part of the hash.
  std::array<std::uint64_t, 4> lanes = {frames.size() * golden_gamma, 1, 2, 3};
  std::size_t i = 0;
  for (; i + 4 <= frames.size(); i += 4) {
    for (std::size_t lane = 0; lane < 4; ++lane) {
      lanes[lane] = mix_in(lanes[lane], frames[i + lane]);
    }
  }
  for (std::size_t lane = 0; i < frames.size(); ++i, ++lane) {
    lanes[lane] = mix_in(lanes[lane], frames[i]);
  }
  std::uint64_t hash = lanes[0];
  for (std::size_t lane = 1; lane < 4; ++lane) hash = mix_in(hash, lanes[lane]);
  return splitmix64_finalize(hash);
}

constexpr std::size_t initial_index_slots = 256;

}  // namespace

stack_store::stack_store(std::size_t max_entries) : max_entries_(max_entries) {}

stack_store::index_slot& stack_store::find_slot(std::uint64_t hash,
                                                std::span<const std::uintptr_t> frames) {
  const std::size_t mask = index_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    index_slot& candidate = index_[slot];
    if (candidate.id == no_trace) return candidate;
    if (candidate.hash == hash && std::ranges::equal(this->frames(candidate.id), frames)) {
      return candidate;
    }
  }
}

void stack_store::grow_index() {
  std::vector<index_slot> old(std::max(index_.size() * 2, initial_index_slots));
  old.swap(index_);
  for (const index_slot& moved : old) {
    if (moved.id != no_trace) find_slot(moved.hash, frames(moved.id)) = moved;
  }
}

stack_store::trace_id stack_store::intern(std::span<const std::uintptr_t> frames) {
  if (frames.empty()) return no_trace;
  // Room for one more trace with the index at most half full; every probe then ends at an
  // empty slot.
  if (2 * (traces_.size() + 1) > index_.size()) grow_index();
  const std::uint64_t hash = hash_frames(frames);
  index_slot& slot = find_slot(hash, frames);
  if (slot.id != no_trace) return slot.id;

  // first, length and ids are 32-bit, so the store can never grow past that either.
  const std::size_t budget =
      std::min<std::size_t>(max_entries_, std::numeric_limits<std::uint32_t>::max());
  if (frames_.size() > budget || frames.size() > budget - frames_.size()) return no_trace;

  const auto start = static_cast<std::uint32_t>(frames_.size());
  frames_.insert(frames_.end(), frames.begin(), frames.end());
  traces_.push_back({start, static_cast<std::uint32_t>(frames.size())});
  slot = {hash, static_cast<trace_id>(traces_.size())};
  return slot.id;
}

std::span<const std::uintptr_t> stack_store::frames(trace_id id) const {
  if (id == no_trace || id > traces_.size()) return {};
  const stored_trace& trace = traces_[id - 1];
  return std::span(frames_).subspan(trace.first, trace.length);
}

void stack_store::clear() {
  frames_.clear();
  traces_.clear();
  index_.clear();
}

}  // namespace lockdep::detail

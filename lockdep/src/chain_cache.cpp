#include "chain_cache.hpp"

#include <bit>

namespace lockdep::detail {

chain_cache::chain_cache(std::size_t max_chains, std::size_t max_chain_hlocks)
    : max_chains_(max_chains), max_chain_hlocks_(max_chain_hlocks) {
  // At most half full, so probes stay short even with tombstones.
  std::size_t slots = std::bit_ceil(std::max<std::size_t>(2 * max_chains, 64));
  mask_ = slots - 1;
  slots_ = std::make_unique<std::atomic<std::uint64_t>[]>(slots);
  for (std::size_t i = 0; i < slots; ++i) slots_[i].store(empty_slot, std::memory_order_relaxed);
}

chain_cache::insert_result chain_cache::insert(std::uint64_t key, std::vector<class_index> classes,
                                               std::uint32_t* id) {
  if (live_chains_ >= max_chains_) return insert_result::chains_full;
  if (hlocks_used_ + classes.size() > max_chain_hlocks_) return insert_result::hlocks_full;

  std::uint32_t record_id;
  if (!free_records_.empty()) {
    record_id = free_records_.back();
    free_records_.pop_back();
  } else {
    records_.emplace_back();
    record_id = static_cast<std::uint32_t>(records_.size());
  }
  hlocks_used_ += classes.size();
  records_[record_id - 1] = {key, std::move(classes)};
  ++live_chains_;

  std::uint64_t stored = stored_form(key);
  std::size_t slot = slot_of(stored, mask_);
  while (true) {
    std::uint64_t present = slots_[slot].load(std::memory_order_relaxed);
    if (present == empty_slot || present == tombstone) break;
    slot = (slot + 1) & mask_;
  }
  slots_[slot].store(stored, std::memory_order_release);
  *id = record_id;
  return insert_result::inserted;
}

void chain_cache::remove(std::uint32_t id) {
  chain& doomed = records_[id - 1];
  if (doomed.key == 0 && doomed.classes.empty()) return;
  std::uint64_t stored = stored_form(doomed.key);
  std::size_t slot = slot_of(stored, mask_);
  for (std::size_t probes = 0; probes <= mask_; ++probes, slot = (slot + 1) & mask_) {
    std::uint64_t present = slots_[slot].load(std::memory_order_relaxed);
    if (present == empty_slot) break;
    if (present == stored) {
      slots_[slot].store(tombstone, std::memory_order_release);
      break;
    }
  }
  hlocks_used_ -= doomed.classes.size();
  doomed = {};
  --live_chains_;
  free_records_.push_back(id);
}

const chain_cache::chain* chain_cache::record(std::uint32_t id) const {
  if (id == 0 || id > records_.size()) return nullptr;
  const chain& found = records_[id - 1];
  return found.classes.empty() ? nullptr : &found;
}

void chain_cache::clear() {
  for (std::size_t i = 0; i <= mask_; ++i) slots_[i].store(empty_slot, std::memory_order_relaxed);
  records_.clear();
  free_records_.clear();
  live_chains_ = 0;
  hlocks_used_ = 0;
}

}  // namespace lockdep::detail

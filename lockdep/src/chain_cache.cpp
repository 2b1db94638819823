#include "chain_cache.hpp"

#include <algorithm>
#include <bit>
#include <iterator>
#include <new>

#include "page_commit.hpp"

namespace lockdep::detail {

namespace {

// 64 KiB: a program with up to 4,096 chains never rehashes, and a sparse table costs the caches
// only the lines its chains use. The table doubles from here as chains are added.
constexpr std::size_t initial_slot_count = 8192;

}  // namespace

void chain_cache::unmap_table::operator()(slot_block* table) const {
  munmap(table, bytes);
}

chain_cache::slot_block* chain_cache::empty_table(std::size_t slot_count) {
  static_assert(empty_slot == 0, "fresh memory must read as empty slots");
  std::size_t blocks = slot_count / slots_per_block + 1;  // + the sentinel
  std::size_t used = table_region_.constructed();
  if (used + blocks <= table_region_.capacity()) {
    table_region_.grow_to(used + blocks);
    return &table_region_[used];
  }
  std::size_t bytes = round_up(blocks * sizeof(slot_block), page_bytes);
  void* mapped = map_populated(bytes);
  if (mapped == nullptr) throw std::bad_alloc();
  auto* table = static_cast<slot_block*>(mapped);
  overflow_tables_.emplace_back(table, unmap_table{bytes});
  return table;
}

std::uintptr_t chain_cache::table_word_of(const slot_block* table, std::size_t slot_count) {
  auto shift = static_cast<std::uintptr_t>(64 - std::countr_zero(slot_count));
  return reinterpret_cast<std::uintptr_t>(table) | shift;
}

chain_cache::chain_cache(std::size_t max_chains, std::size_t max_chain_hlocks,
                         std::atomic<std::uintptr_t>* publish_to)
    : max_chains_(max_chains),
      max_chain_hlocks_(max_chain_hlocks),
      // At most half full at the largest, so probes stay short even with tombstones.
      max_slot_count_(std::bit_ceil(std::max<std::size_t>(2 * max_chains, 64))),
      slot_count_(std::min(max_slot_count_, initial_slot_count)),
      published_(publish_to != nullptr ? publish_to : &own_table_word_),
      // Every table from the first to the largest, each twice the one before, and one rebuild
      // at the largest size.
      table_region_(3 * (max_slot_count_ / slots_per_block + 1)),
      class_storage_(max_chain_hlocks),
      records_(max_chains) {
  // Without the reserved tables (mapping failed) every new chain is a capacity report.
  if (class_storage_.capacity() == 0 || records_.capacity() == 0) max_chains_ = 0;
  // The first chain needs both, so their first pages come with the cache, as the table's do:
  // committing them costs a page zeroing each, which belongs with creating the validator
  // rather than with its first chain.
  class_storage_.commit_for(1);
  records_.commit_for(1);
  table_ = empty_table(slot_count_);
  table_word_ = table_word_of(table_, slot_count_);
  published_->store(table_word_, std::memory_order_release);
}

std::size_t chain_cache::allocate_classes(std::size_t length) {
  if (length < free_blocks_.size() && !free_blocks_[length].empty()) {
    std::size_t offset = free_blocks_[length].back();
    free_blocks_[length].pop_back();
    return offset;
  }
  if (class_storage_end_ + length <= max_chain_hlocks_) {
    std::size_t offset = class_storage_end_;
    class_storage_end_ += length;
    class_storage_.grow_to(class_storage_end_);
    return offset;
  }
  for (std::size_t longer = length + 1; longer < free_blocks_.size(); ++longer) {
    if (free_blocks_[longer].empty()) continue;
    std::size_t offset = free_blocks_[longer].back();
    free_blocks_[longer].pop_back();
    free_blocks_[longer - length].push_back(static_cast<std::uint32_t>(offset + length));
    return offset;
  }
  return npos;
}

bool chain_cache::probe(std::uintptr_t table_word, std::uint64_t key) {
  const std::atomic<std::uint64_t>* slots = slots_of(table_word);
  std::size_t mask = slot_count_of(table_word) - 1;
  std::uint64_t stored = stored_form(key);
  // Bounded: after heavy churn tombstones may leave no empty slot to stop at.
  std::size_t slot = home_slot(stored, table_word);
  for (std::size_t probes = 0; probes <= mask; ++probes, slot = (slot + 1) & mask) {
    std::uint64_t present = slots[slot].load(std::memory_order_acquire);
    if (present == stored) return true;
    if (present == empty_slot) return false;
  }
  return false;
}

void chain_cache::rehash(std::size_t slot_count) {
  slot_block* fresh_table = empty_table(slot_count);
  std::uintptr_t fresh_word = table_word_of(fresh_table, slot_count);
  std::atomic<std::uint64_t>* fresh = fresh_table->slots;
  std::size_t mask = slot_count - 1;
  // From the old table in slot order rather than from the records: a key's home slot is its top
  // bits, so the keys arrive in nearly ascending order of their new slots too, and both tables
  // are walked front to back instead of written at random.
  const std::atomic<std::uint64_t>* old_slots = slots();
  for (std::size_t old_slot = 0; old_slot < slot_count_; ++old_slot) {
    std::uint64_t stored = old_slots[old_slot].load(std::memory_order_relaxed);
    if (stored == empty_slot || stored == tombstone) continue;
    std::size_t slot = home_slot(stored, fresh_word);
    while (fresh[slot].load(std::memory_order_relaxed) != empty_slot) slot = (slot + 1) & mask;
    fresh[slot].store(stored, std::memory_order_relaxed);
  }
  table_ = fresh_table;
  slot_count_ = slot_count;
  tombstones_ = 0;
  table_word_ = fresh_word;
  published_->store(fresh_word, std::memory_order_release);
}

void chain_cache::reserve_one() {
  if ((live_chains_ + tombstones_ + 1) * 2 <= slot_count_) return;
  std::size_t wanted = slot_count_;
  while ((live_chains_ + 1) * 4 > wanted && wanted < max_slot_count_) wanted *= 2;
  // At the largest size, tombstones are cleared only once they are a quarter of the table, so
  // churn near the limit does not rehash on every insert.
  if (wanted > slot_count_ || tombstones_ * 4 > slot_count_) rehash(wanted);
}

chain_cache::insert_result chain_cache::insert(std::uint64_t key,
                                               std::span<const class_index> classes,
                                               std::uint32_t* id) {
  if (live_chains_ >= max_chains_) return insert_result::chains_full;
  std::size_t offset = allocate_classes(classes.size());
  if (offset == npos) return insert_result::hlocks_full;
  std::copy(classes.begin(), classes.end(), class_storage_.data() + offset);

  std::uint32_t record_id;
  if (!free_records_.empty()) {
    record_id = free_records_.back();
    free_records_.pop_back();
  } else {
    records_.grow_to(records_.constructed() + 1);
    record_id = static_cast<std::uint32_t>(records_.constructed());
  }
  reserve_one();
  hlocks_used_ += classes.size();
  records_[record_id - 1] = {key, {class_storage_.data() + offset, classes.size()}};
  ++live_chains_;

  std::atomic<std::uint64_t>* slots = this->slots();
  std::size_t mask = slot_count_ - 1;
  std::uint64_t stored = stored_form(key);
  std::size_t slot = home_slot(stored, table_word_);
  while (true) {
    std::uint64_t present = slots[slot].load(std::memory_order_relaxed);
    if (present == empty_slot) break;
    if (present == tombstone) {
      --tombstones_;
      break;
    }
    slot = (slot + 1) & mask;
  }
  slots[slot].store(stored, std::memory_order_release);
  *id = record_id;
  return insert_result::inserted;
}

void chain_cache::remove(std::uint32_t id) {
  chain& doomed = records_[id - 1];
  if (doomed.key == 0 && doomed.classes.empty()) return;
  std::atomic<std::uint64_t>* slots = this->slots();
  std::size_t mask = slot_count_ - 1;
  std::uint64_t stored = stored_form(doomed.key);
  std::size_t slot = home_slot(stored, table_word_);
  for (std::size_t probes = 0; probes <= mask; ++probes, slot = (slot + 1) & mask) {
    std::uint64_t present = slots[slot].load(std::memory_order_relaxed);
    if (present == empty_slot) break;
    if (present == stored) {
      slots[slot].store(tombstone, std::memory_order_release);
      ++tombstones_;
      break;
    }
  }
  hlocks_used_ -= doomed.classes.size();
  std::size_t length = doomed.classes.size();
  if (free_blocks_.size() <= length) free_blocks_.resize(length + 1);
  free_blocks_[length].push_back(
      static_cast<std::uint32_t>(doomed.classes.data() - class_storage_.data()));
  doomed = {};
  --live_chains_;
  free_records_.push_back(id);
}

const chain_cache::chain* chain_cache::record(std::uint32_t id) const {
  if (id == 0 || id > records_.constructed()) return nullptr;
  const chain& found = records_[id - 1];
  return found.classes.empty() ? nullptr : &found;
}

}  // namespace lockdep::detail

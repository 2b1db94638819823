#include "class_registry.hpp"

namespace lockdep::detail {

std::string usage_string(std::uint32_t usage) {
  // Without interrupt contexts a usage bit is either unset ('.') or "enabled" ('+'); the
  // kernel's '-' and '?' need an in-interrupt acquisition, which we never record.
  auto mark = [usage](std::uint32_t bit) { return (usage & bit) != 0 ? '+' : '.'; };
  return {'{',
          mark(usage_enabled_hardirq),
          mark(usage_enabled_hardirq_read),
          mark(usage_enabled_softirq),
          mark(usage_enabled_softirq_read),
          '}'};
}

std::string lock_class::printable_name() const {
  std::string printed(name);
  // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) on "#" + std::string.
  if (name_version > 1) printed.append(1, '#').append(std::to_string(name_version));
  if (subclass != 0) printed.append(1, '/').append(std::to_string(subclass));
  return printed;
}

class_registry::class_registry(std::size_t max_classes)
    : classes_(max_classes + 1), identities_(max_classes + 1) {
  bool reserved = classes_.capacity() != 0 && identities_.capacity() != 0;
  capacity_ = reserved ? max_classes : 0;  // no table: every new class is a capacity report
  classes_.grow_to(reserved ? 1 : 0);
  identities_.grow_to(reserved ? 1 : 0);
}

class_index class_registry::find(const void* key, unsigned subclass) const {
  const class_index* found = by_identity_.find(identity_of(key, subclass));
  return found == nullptr ? no_class : *found;
}

unsigned class_registry::new_version(name_versions& versions) {
  if (versions.live == 0) versions.max_version = 0;
  return ++versions.max_version;
}

void class_registry::park(decltype(versions_)::iterator unused) {
  if (parked_ != versions_.end() && parked_ != unused && parked_->second.live == 0) {
    if (parked_ == last_named_) last_named_ = versions_.end();
    versions_.erase(parked_);
  }
  parked_ = unused;
}

class_index class_registry::create(const void* key, unsigned subclass, std::string_view name) {
  class_index index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else if (next_unused_ <= capacity_) {
    index = next_unused_++;
    classes_.grow_to(next_unused_);
    identities_.grow_to(next_unused_);
  } else {
    return no_class;
  }
  lock_class& created = classes_[index];
  auto named = last_named_;
  if (named == versions_.end() || named->first != name) {
    named = versions_.find(name);
    if (named == versions_.end()) {
      named = versions_.emplace(std::string(name), name_versions{}).first;
    }
    last_named_ = named;
  }
  name_versions& versions = named->second;
  key_use& use = keys_[key];
  if (use.live_subclasses++ == 0) use.version = new_version(versions);
  created.name_version = use.version;
  versions.live++;
  created.name = named->first;
  created.subclass = static_cast<std::uint8_t>(subclass);
  created.usage.store(0, std::memory_order_relaxed);
  created.after.release();
  created.before.release();
  created.chains.clear();
  created.unnamed_lock = nullptr;
  created.first_use_trace = 0;
  created.first_use_pending = false;
  by_identity_[identity_of(key, subclass)] = index;
  // Publish last: the fast path treats a class whose identity matches as ready.
  identities_[index].store(identity_of(key, subclass), std::memory_order_release);
  return index;
}

void class_registry::destroy(class_index index) {
  lock_class& doomed = classes_[index];
  const void* identity_gone = identity(index);
  by_identity_.erase(identity_gone);
  const void* key = static_cast<const char*>(identity_gone) - doomed.subclass;
  key_use* use = keys_.find(key);
  if (use != nullptr && --use->live_subclasses == 0) keys_.erase(key);
  // The class's name is usually the last one created: the same entry, found without hashing.
  auto versions = last_named_ != versions_.end() && last_named_->first.data() == doomed.name.data()
                      ? last_named_
                      : versions_.find(doomed.name);
  if (versions != versions_.end() && --versions->second.live == 0) park(versions);
  doomed.name = {};  // its text may have gone with its versions
  identities_[index].store(nullptr, std::memory_order_release);
  doomed.after.release();
  doomed.before.release();
  doomed.chains = {};
  free_.push_back(index);
}

std::vector<class_index> class_registry::all() const {
  std::vector<class_index> indices;
  indices.reserve(by_identity_.size());
  for (class_index index = 1; index < next_unused_; ++index) {
    if (in_use(index)) indices.push_back(index);
  }
  return indices;
}

}  // namespace lockdep::detail

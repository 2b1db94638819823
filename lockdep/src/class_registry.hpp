// The table of lock classes: lookup by (key, subclass), registration with the kernel's naming
// rules (`#N` for a second key with an equal name), and forgetting a key's classes.
//
// Not thread-safe: the validator calls it under its graph lock, except `at()`, `identity()` and
// the identity mirror, which the fast path reads without it (slots are never freed while a lock
// of theirs is in use).
// Not copyable or movable.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lock_class.hpp"
#include "pointer_map.hpp"
#include "reserved_array.hpp"

namespace lockdep::detail {

class class_registry {
 public:
  explicit class_registry(std::size_t max_classes);
  class_registry(const class_registry&) = delete;
  class_registry& operator=(const class_registry&) = delete;

  lock_class& at(class_index index) { return classes_[index]; }
  const lock_class& at(class_index index) const { return classes_[index]; }

  class_index find(const void* key, unsigned subclass) const;
  // Creates the class; no_class when the table is full (MAX_LOCKDEP_KEYS).
  class_index create(const void* key, unsigned subclass, std::string_view name);

  // A class's identity, as in the kernel: the key's address plus the subclass. Keys and lock
  // maps are at least 8 bytes long, so two keys' identities never collide.
  static const void* identity_of(const void* key, unsigned subclass) {
    return static_cast<const char*>(key) + subclass;
  }
  // The identity of the class in slot `index`; nullptr when the slot is free.
  const void* identity(class_index index) const {
    return identities_[index].load(std::memory_order_acquire);
  }
  bool in_use(class_index index) const { return identity(index) != nullptr; }
  // Every slot's identity, densely, for the fast path's check of a lock's cached class (eight
  // bytes per class instead of a whole lock_class line).
  // Slot 0 (no_class) is always there, even when the table could not be reserved.
  const std::atomic<const void*>* identities() const {
    static constexpr std::atomic<const void*> only_no_class{nullptr};
    return capacity_ != 0 ? identities_.data() : &only_no_class;
  }

  // Frees the slot. The caller has already removed the class's dependencies and chains.
  void destroy(class_index index);

  std::size_t size() const { return by_identity_.size(); }
  std::size_t capacity() const { return capacity_; }
  // Every slot ever used is below this index (so per-class scratch space need only reach it).
  class_index end_index() const { return next_unused_; }
  // Every class in use, in index order.
  std::vector<class_index> all() const;

 private:
  struct name_versions {
    unsigned live = 0;         // classes in use with this name
    unsigned max_version = 0;  // highest version handed out while some were live
  };

  // A new key's name version, given the versions of its name: 1 for the first live key with
  // this name, then 2, 3...
  static unsigned new_version(name_versions& versions);

  // Per key in use: the name version its classes share (`#3` and `#3/1` name one key's classes)
  // and how many of its subclasses are in use.
  struct key_use {
    unsigned version = 0;
    unsigned live_subclasses = 0;
  };

  // Both tables are reserved for max_classes + 1 slots ([0] unused) and committed as slots are
  // first used, so a large max_classes costs address space, not memory.
  reserved_array<lock_class> classes_;
  // identities_[i] is class i's identity, published last when it is created.
  reserved_array<std::atomic<const void*>> identities_;
  std::size_t capacity_;
  std::vector<class_index> free_;
  class_index next_unused_ = 1;
  pointer_map<class_index> by_identity_;
  // Per name in use, its versions. Its key is the one copy of the name that the name's
  // classes point to, so a new class of a known name copies nothing (nodes never move).
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>{}(name);
    }
  };
  std::unordered_map<std::string, name_versions, name_hash, std::equal_to<>> versions_;
  // The entry of the last name created: classes come in runs of one name (an array of locks,
  // the lock member of many objects), and comparing the name costs less than hashing it.
  // Cleared when that entry is erased.
  decltype(versions_)::iterator last_named_ = versions_.end();
  // The last entry whose classes are all gone, kept instead of erased: a lock created and
  // freed in a loop (a per-request object's mutex, at the address the allocator hands out
  // again) names its next class the same, and reuses the entry instead of allocating it anew.
  // At most one is kept; a name with live classes again is no longer parked.
  decltype(versions_)::iterator parked_ = versions_.end();
  // Parks an entry whose live count dropped to zero, erasing the one parked before.
  void park(decltype(versions_)::iterator unused);
  pointer_map<key_use> keys_;
};

}  // namespace lockdep::detail

#include "lock_annotations.hpp"

#include <span>

#include "callsite_keys.hpp"
#include "lock_table.hpp"
#include "lockdep/validator.hpp"
#include "preload_init.hpp"
#include "reentrancy_guard.hpp"

namespace lockdep::preload {

lock_map* map_for_slow(const void* object) {
  lockdep_scope scope;
  if (!validation_enabled()) return nullptr;
  return locks().find_or_create(object);
}

namespace {

// A held lock initialised again or destroyed is a held lock freed: reported with the object's
// own address range (its map lives in the table, elsewhere), from the caller's frame.
void check_not_held(const void* object, std::size_t size, const void* ip) {
  if (const lock_map* map = locks().find(object)) {
    check_no_locks_freed(std::span<const lock_map* const>(&map, 1), object, size, ip);
  }
}

}  // namespace

void annotate_init(const void* object, std::size_t size, const void* init_site) {
  lockdep_scope scope;
  if (!validation_enabled()) {
    locks().erase(object);
    return;
  }
  check_not_held(object, size, init_site);
  lock_class_key* key = nullptr;
  if (preload_config().classes == class_mode::per_callsite) key = key_for_callsite(init_site);
  locks().initialise(object, key, init_site);
}

void annotate_destroy_begin(const void* object, std::size_t size, const void* ip) {
  lockdep_scope scope;
  check_not_held(object, size, ip);
}

void annotate_destroy_end(const void* object) {
  lockdep_scope scope;
  locks().erase(object);
}

void annotate_acquire_slow(lock_map& map, acquire_request request, const void* ip) {
  lockdep_scope scope;
  detail::lock_acquire_full(map, request, ip);
}

bool annotate_release_slow(lock_map& map, const void* ip) {
  lockdep_scope scope;
  return detail::lock_release_full(map, ip);
}

}  // namespace lockdep::preload

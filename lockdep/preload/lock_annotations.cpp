#include "lock_annotations.hpp"

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

void annotate_init(const void* object, const void* init_site) {
  lockdep_scope scope;
  if (!validation_enabled()) {
    locks().erase(object);
    return;
  }
  lock_class_key* key = nullptr;
  if (preload_config().classes == class_mode::per_callsite) key = key_for_callsite(init_site);
  locks().initialise(object, key, init_site);
}

void annotate_destroy_begin(const void* object) {
  lockdep_scope scope;
  if (lock_map* map = locks().find(object)) check_no_locks_freed(map, sizeof *map);
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

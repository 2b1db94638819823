#include "freed_memory.hpp"

#include <span>

#include "lock_annotations.hpp"
#include "lock_pages.hpp"
#include "lock_table.hpp"
#include "lockdep/validator.hpp"
#include "reentrancy_guard.hpp"

namespace lockdep::preload {
namespace {

// The maps of the first objects in a freed range, checked against the held stack together so
// that one free gives one report, as in the kernel. A range with more locks than this has the
// rest checked one by one as their maps are destroyed.
constexpr std::size_t checked_together = 32;

struct freed_maps {
  const lock_map* maps[checked_together];
  std::size_t count = 0;
};

void gather_map(const void* object, void* context) {
  auto& gathered = *static_cast<freed_maps*>(context);
  if (gathered.count == checked_together) return;
  if (lock_map* map = locks().find(object)) gathered.maps[gathered.count++] = map;
}

void forget_object(const void* object, void*) {
  locks().erase(object);
}

[[gnu::noinline]] void forget_locks_in(const void* begin, std::size_t size, const void* caller) {
  lockdep_scope scope;
  freed_maps gathered;
  lock_pages_for_each_in(begin, size, gather_map, &gathered);
  check_no_locks_freed(std::span<const lock_map* const>(gathered.maps, gathered.count), begin, size,
                       caller);
  lock_pages_for_each_in(begin, size, forget_object, nullptr);
}

}  // namespace
}  // namespace lockdep::preload

LOCKDEP_PRELOAD_EXPORT void lockdep_preload_memory_freed(const void* begin, std::size_t size,
                                                         const void* caller) noexcept {
  using namespace lockdep::preload;
  if (size == 0 || forward_only()) return;
  if (!lock_pages_any_in(begin, size)) [[likely]]
    return;
  forget_locks_in(begin, size, caller);
}

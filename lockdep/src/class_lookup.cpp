// Finding a lock's class (lock-free through the map's cache, else registering it under the
// graph lock), and forgetting classes when their key or their lock goes away.
#include <algorithm>
#include <charconv>
#include <span>
#include <string>
#include <string_view>

#include "fast_path.hpp"
#include "report_builder.hpp"
#include "stack_store.hpp"
#include "validator_core.hpp"
#include "validator_internal.hpp"

namespace lockdep::detail {
namespace {

const char* base_name(const char* path) {
  const char* base = path;
  for (const char* at = path; *at != '\0'; ++at) {
    if (*at == '/') base = at + 1;
  }
  return base;
}

// Per-instance locks without a name are named after where they were constructed, built in
// `scratch` (this runs once per new class; the registry copies a name only the first time).
// The scratch keeps the last name built: new classes come in runs from one place (an array of
// locks, the lock member of many objects). The place is told by its file name's address, which
// only a library unloaded and replaced at the same address could confuse, and then only the
// name, not the class.
std::string_view class_name_for(const lock_map& map, validator_core::class_name_scratch& scratch) {
  if (map.name() != nullptr) return map.name();
  if (map.origin() != nullptr) {
    // Until a report names it better (unnamed_lock), a lock kept apart is its address.
    char digits[2 * sizeof(void*)];
    auto value = reinterpret_cast<std::uintptr_t>(map.lock_address());
    auto [end, error] = std::to_chars(digits, digits + sizeof digits, value, 16);
    (void)error;  // sized for any address
    scratch.file = nullptr;
    scratch.text.assign("0x").append(digits, end);
    return scratch.text;
  }
  const lockdep::source_location& where = map.where();
  if (where.file_name() == nullptr || where.file_name()[0] == '\0') return "lock_map";
  if (where.file_name() == scratch.file && where.line() == scratch.line) return scratch.text;
  scratch.file = where.file_name();
  scratch.line = where.line();
  char line[16];
  auto [line_end, error] = std::to_chars(line, line + sizeof line, where.line());
  (void)error;  // 16 characters hold any line number
  scratch.text.assign(base_name(where.file_name())).append(1, ':').append(line, line_end);
  return scratch.text;
}

// The frames a lock's first use keeps: enough to get from the lock function through the
// standard library's wrappers (not inlined at -O0: __gthread_mutex_lock, std::mutex::lock,
// std::lock_guard's constructor) to the program's line.
constexpr std::size_t first_use_frames = 12;

// The first use of a lock the program gave no name, for a report to name it by (see
// note_first_use): captured before the graph lock is taken.
struct first_use {
  std::uintptr_t frames[first_use_frames];
  std::size_t count = 0;
  bool pending = false;  // the first dependency's trace will be it
};

// A lockdep lock is named after its construction site already, better than a first use; a
// lock kept apart (LD_PRELOAD) by the call that initialised it, else by the stack that first
// locks it. Taken under another lock, that stack is the one its first dependency records
// anyway, which add_dependency() hands over: only a lock first taken alone pays for a stack of
// its own.
first_use capture_first_use(const thread_lock_state& state, const lock_map& map, const void* ip) {
  first_use captured;
  const lock_origin* origin = map.origin();
  if (origin == nullptr || !map.has_own_class() || map.name() != nullptr) return captured;
  if (origin->initialised_at != nullptr) {
    captured.frames[0] = reinterpret_cast<std::uintptr_t>(origin->initialised_at);
    captured.count = 1;
  } else if (state.depth > 0) {
    captured.pending = true;
  } else {
    captured.count = current_raw_stack(ip, captured.frames, first_use_frames);
  }
  return captured;
}

// For the class of a lock the program gave no name: the lock, and where a report can say it
// comes from (stored once per call path: locks created in a loop share it).
void note_first_use(validator_core& shared, class_index created_index, const lock_map& map,
                    const first_use& captured) {
  lock_class& created = shared.classes->at(created_index);
  created.unnamed_lock = map.lock_address();
  created.first_use_pending = captured.pending;
  if (captured.count > 0) {
    created.first_use_trace = shared.stacks->intern(std::span(captured.frames, captured.count));
  }
}

class_index register_class(thread_lock_state& state, lock_map& map, unsigned subclass,
                           const void* ip) {
  busy_scope busy(state);
  validator_core& shared = core();
  const first_use captured = capture_first_use(state, map, ip);
  return in_graph_section([&] {
    if (!validation_is_on()) return no_class;
    const void* key = map.class_identity();
    class_index found = shared.classes->find(key, subclass);
    if (found == no_class) {
      found = shared.classes->create(key, subclass, class_name_for(map, shared.name_scratch));
      if (found == no_class) {
        issue_capacity_report(state, "MAX_LOCKDEP_KEYS", "max_classes", shared.classes->capacity(),
                              ip);
        return no_class;
      }
      if (map.has_own_class() && map.name() == nullptr)
        note_first_use(shared, found, map, captured);
    }
    lock_map_access::cached_class(map, subclass).store(found, std::memory_order_release);
    return found;
  });
}

// Remembers, per class, the chains containing it, so forgetting a class can drop them. Ids of
// removed chains linger until the list is next compacted (when its size reaches a power of
// two), and so do repeats: a removed chain's id is reused, often for the same chain again when
// a program creates and destroys locks in a loop. Compaction drops both, so the list stays
// within twice the chains the class is really in (or 64). forget_class tolerates what lingers.
void note_chain_member(validator_core& shared, class_index member, std::uint32_t chain_id) {
  std::vector<std::uint32_t>& chains = shared.classes->at(member).chains;
  if (chains.size() >= 64 && (chains.size() & (chains.size() - 1)) == 0) {
    std::sort(chains.begin(), chains.end());
    chains.erase(std::unique(chains.begin(), chains.end()), chains.end());
    std::erase_if(chains, [&](std::uint32_t id) {
      const chain_cache::chain* chain = shared.chains->record(id);
      return chain == nullptr || std::find(chain->classes.begin(), chain->classes.end(), member) ==
                                     chain->classes.end();
    });
  }
  chains.push_back(chain_id);
}

// Adds the chains recorded since the last call to their classes' lists. Deferred from
// recording to the first forget, so that validating a new chain does not pay for an index
// that programs with only static locks never read.
void index_new_chains(validator_core& shared) {
  auto index_chain = [&shared](std::uint32_t chain_id) {
    const chain_cache::chain* chain = shared.chains->record(chain_id);
    if (chain == nullptr) return;
    for (class_index member : chain->classes) note_chain_member(shared, member, chain_id);
  };
  for (std::uint32_t chain_id : shared.unindexed_reused_chains) index_chain(chain_id);
  shared.unindexed_reused_chains.clear();
  std::uint32_t last_id = shared.chains->last_id();
  for (std::uint32_t chain_id = shared.indexed_through + 1; chain_id <= last_id; ++chain_id) {
    index_chain(chain_id);
  }
  shared.indexed_through = last_id;
}

void forget_class(validator_core& shared, class_index doomed) {
  index_new_chains(shared);
  for (std::uint32_t chain_id : shared.classes->at(doomed).chains) {
    const chain_cache::chain* chain = shared.chains->record(chain_id);
    if (chain == nullptr) continue;
    // The id may be stale (the chain was removed and its record reused by another chain).
    if (std::find(chain->classes.begin(), chain->classes.end(), doomed) == chain->classes.end()) {
      continue;
    }
    shared.chains->remove(chain_id);
  }
  shared.graph->remove_class(doomed);
  shared.classes->destroy(doomed);
}

}  // namespace

class_index class_of(thread_lock_state& state, lock_map& map, unsigned subclass, const void* ip) {
  class_index cached = cached_class_of(map, subclass);
  return cached != no_class ? cached : register_class(state, map, subclass, ip);
}

void forget_classes(const void* identity, unsigned subclasses) {
  thread_lock_state& state = this_thread_state();
  busy_scope busy(state);
  validator_core& shared = core();
  in_graph_section([&] {
    for (unsigned subclass = 0; subclass < max_subclasses; ++subclass) {
      if ((subclasses & (1u << subclass)) == 0) continue;
      class_index doomed = shared.classes->find(identity, subclass);
      if (doomed != no_class) forget_class(shared, doomed);
    }
  });
}

void report_invalid_subclass(thread_lock_state& state, unsigned subclass, const void* ip) {
  busy_scope busy(state);
  in_graph_section([&] {
    if (!validation_is_on()) return;
    report invalid = start_report(report_kind::invalid_subclass, state, ip);
    invalid.subclass = subclass;
    issue(std::move(invalid));
    // The kernel turns itself off here whatever else is configured.
    turn_validation_off();
  });
}

}  // namespace lockdep::detail

namespace lockdep {

void forget_lock_class_key(const void* key) {
  detail::forget_classes(key);
}

dynamic_lock_class_key::~dynamic_lock_class_key() {
  forget_lock_class_key(this);
}

lock_map::~lock_map() {
  check_no_locks_freed(this, sizeof(*this));
  detail::thread_lock_state& state = detail::this_thread_state();
  if (!detail::validation_is_on()) detail::drop_held_locks_in(state, this, sizeof(*this));
  detail::forget_held_before_reset(state, this, sizeof(*this));
  // Only a lock that was ever used has classes to forget; unused locks cost nothing here.
  if (!has_own_class()) return;
  if (unsigned used = lock_map_access::registered_subclasses(*this)) {
    detail::forget_classes(this, used);
  }
}

void lock_map::set_class(lock_class_key& key, unsigned subclass) {
  if (has_own_class() && lock_map_access::registered_subclasses(*this) != 0) {
    detail::forget_classes(this);
  }
  lock_map_access::set_key(*this, &key, subclass);
}

}  // namespace lockdep

// Annotations and checks that are not acquisitions: held-state queries, class changes on held
// locks, might_lock, assertions, freed-memory and thread-exit checks, the per-thread off switch,
// and the pseudo-lock operations of lock_map.
#include <algorithm>
#include <cstdint>
#include <span>

#include "report_builder.hpp"
#include "validator_core.hpp"
#include "validator_internal.hpp"

namespace lockdep {
namespace {

using detail::thread_lock_state;

// The current thread's state if the validator can answer questions about it, else nullptr.
thread_lock_state* answering_state() {
  if (!detail::validation_is_on()) return nullptr;
  thread_lock_state& state = detail::this_thread_state();
  if (state.ignored() || !detail::prepare_thread_state(state)) return nullptr;
  return &state;
}

std::int32_t find_held(const thread_lock_state& state, const lock_map& map) {
  for (std::uint32_t i = state.depth; i-- > 0;) {
    if (state.held[i].instance == &map) return static_cast<std::int32_t>(i);
  }
  return -1;
}

void report_assertion(const lock_map& map, const char* expression, lockdep::source_location where,
                      const void* ip) {
  thread_lock_state* state = answering_state();
  if (state == nullptr) return;
  detail::busy_scope busy(*state);
  detail::in_graph_section([&] {
    report failed = detail::start_report(report_kind::assertion_failed, *state, ip);
    std::int32_t held = find_held(*state, map);
    failed.acquiring =
        held >= 0 ? detail::describe(state->held[held])
                  : detail::describe(map, detail::no_class, lock_access::exclusive, nullptr);
    failed.assertion = expression;
    failed.assertion_site.function = std::string(where.file_name()) + ":" +
                                     std::to_string(where.line()) + " " + where.function_name();
    detail::issue(std::move(failed));
  });
}

}  // namespace

held_state lock_held_state(const lock_map& map) {
  thread_lock_state* state = answering_state();
  if (state == nullptr) return held_state::unknown;
  return find_held(*state, map) >= 0 ? held_state::held : held_state::not_held;
}

held_state lock_held_state(const lock_map& map, lock_access access) {
  thread_lock_state* state = answering_state();
  if (state == nullptr) return held_state::unknown;
  std::int32_t held = find_held(*state, map);
  if (held < 0) return held_state::not_held;
  bool held_for_read = state->held[held].access != lock_access::exclusive;
  bool asked_for_read = access != lock_access::exclusive;
  return held_for_read == asked_for_read ? held_state::held : held_state::not_held;
}

namespace {

// Moves a held lock to the class of (its key, `subclass`) and re-validates the locks above it.
void change_held_class(thread_lock_state& state, std::int32_t held, lock_map& map,
                       unsigned subclass, const void* ip) {
  detail::class_index lock_class = detail::class_of(state, map, subclass, ip);
  if (lock_class == detail::no_class) return;
  detail::held_lock changed = state.held[held];
  changed.lock_class = lock_class;
  changed.subclass = static_cast<std::uint8_t>(subclass);
  detail::rebuild_held_stack(state, static_cast<std::uint32_t>(held), &changed);
}

}  // namespace

void lock_set_class(lock_map& map, lock_class_key& key, unsigned subclass, const void* ip) {
  thread_lock_state* state = answering_state();
  if (state == nullptr) return;
  std::int32_t held = find_held(*state, map);
  if (held < 0) {
    detail::report_bad_unlock(*state, map, ip);
    return;
  }
  lock_map_access::set_key(map, &key, subclass);
  change_held_class(*state, held, map, subclass, ip);
}

void lock_set_subclass(lock_map& map, unsigned subclass, const void* ip) {
  thread_lock_state* state = answering_state();
  if (state == nullptr) return;
  std::int32_t held = find_held(*state, map);
  if (held < 0) {
    detail::report_bad_unlock(*state, map, ip);
    return;
  }
  if (subclass >= max_subclasses) {
    detail::report_invalid_subclass(*state, subclass, ip);
    return;
  }
  lock_map_access::set_default_subclass(map, subclass);
  change_held_class(*state, held, map, subclass, ip);
}

void might_lock(lock_map& map, lock_access access, const void* ip) {
  if (ip == nullptr) ip = LOCKDEP_RET_IP;
  acquire_request request;
  request.subclass = map.default_subclass();
  request.access = access;
  lock_acquire(map, request, ip);
  lock_release(map, ip);
}

namespace {

// Reports the lowest held entry for which in_freed_memory(entry) is true as a held lock freed in
// [from, from + size), freed by the call at `ip`, then drops every such entry from the held
// stack.
template <class InFreedMemory>
void report_held_locks_freed(const void* from, std::size_t size, const void* ip,
                             InFreedMemory in_freed_memory) {
  thread_lock_state* state = answering_state();
  if (state == nullptr || state->depth == 0) return;
  std::uint32_t freed_entry = 0;
  while (freed_entry < state->depth && !in_freed_memory(state->held[freed_entry])) ++freed_entry;
  if (freed_entry == state->depth) return;
  {
    detail::busy_scope busy(*state);
    detail::in_graph_section([&] {
      report freed = detail::start_report(report_kind::held_lock_freed, *state, ip);
      freed.holding = detail::describe(state->held[freed_entry]);
      freed.freed_from = from;
      freed.freed_to = static_cast<const char*>(from) + size;
      detail::issue(std::move(freed));
    });
  }
  // The memory is going away: forget every entry in it (a lock held twice, as recursive reads
  // or nested subclasses may be, has several; so may several locks in one freed object), so
  // that nothing later looks at them. One report is enough, as in the kernel. The other freed
  // entries above the lowest are dropped first, so that rebuilding the stack from the lowest
  // takes again only the locks that remain.
  std::uint32_t kept = freed_entry + 1;
  for (std::uint32_t i = freed_entry + 1; i < state->depth; ++i) {
    if (!in_freed_memory(state->held[i])) state->held[kept++] = state->held[i];
  }
  state->depth = kept;
  detail::rebuild_held_stack(*state, freed_entry, nullptr);
}

}  // namespace

void check_no_locks_freed(const void* from, std::size_t size) {
  auto begin = reinterpret_cast<std::uintptr_t>(from);
  auto end = begin + size;
  // The trace starts at the caller: the lock's destructor.
  report_held_locks_freed(from, size, LOCKDEP_RET_IP, [&](const detail::held_lock& held) {
    auto instance = reinterpret_cast<std::uintptr_t>(held.instance);
    return instance + sizeof(lock_map) > begin && instance < end;
  });
}

void check_no_locks_freed(std::span<const lock_map* const> maps, const void* from, std::size_t size,
                          const void* ip) {
  report_held_locks_freed(from, size, ip, [&](const detail::held_lock& held) {
    return std::ranges::find(maps, held.instance) != maps.end();
  });
}

void check_no_locks_held() {
  thread_lock_state* state = answering_state();
  if (state == nullptr || state->depth == 0) return;
  detail::busy_scope busy(*state);
  detail::in_graph_section([&] {
    if (!detail::validation_is_on()) return;
    // The trace starts at the exit check's caller (the thread-exit hook), not inside the validator.
    detail::issue(detail::start_report(report_kind::locks_held_at_exit, *state, LOCKDEP_RET_IP));
  });
}

void assert_held(const lock_map& map, const char* expression, lockdep::source_location where) {
  if (lock_held_state(map) == held_state::not_held) {
    report_assertion(map, expression, where, LOCKDEP_RET_IP);
  }
}

void assert_not_held(const lock_map& map, const char* expression, lockdep::source_location where) {
  if (lock_held_state(map) == held_state::held) {
    report_assertion(map, expression, where, LOCKDEP_RET_IP);
  }
}

void report_warning(const std::string& message, const void* ip, lockdep::source_location where) {
  thread_lock_state& state = detail::this_thread_state();
  if (state.ignored()) return;
  detail::prepare_thread_state(state);
  detail::busy_scope busy(state);
  detail::in_graph_section([&] {
    report warned = detail::start_report(report_kind::warning, state, ip);
    warned.assertion = message;
    warned.assertion_site.function = std::string(where.file_name()) + ":" +
                                     std::to_string(where.line()) + " " + where.function_name();
    detail::issue(std::move(warned));
  });
}

bool validation_enabled() {
  return detail::validation_is_on();
}

std::size_t report_count() {
  std::lock_guard guard(detail::graph_lock());
  return detail::core().reports_issued;
}

validation_off_scope::validation_off_scope() {
  ++detail::this_thread_state().suppressed;
}
validation_off_scope::~validation_off_scope() {
  --detail::this_thread_state().suppressed;
}

void lock_map::acquire(unsigned subclass) {
  acquire_request request;
  request.subclass = subclass != 0 ? subclass : default_subclass_;
  lock_acquire(*this, request, LOCKDEP_RET_IP);
}

void lock_map::acquire_read() {
  acquire_request request;
  request.subclass = default_subclass_;
  request.access = lock_access::shared_recursive;
  lock_acquire(*this, request, LOCKDEP_RET_IP);
}

bool lock_map::try_acquire() {
  acquire_request request;
  request.subclass = default_subclass_;
  request.trylock = true;
  lock_acquire(*this, request, LOCKDEP_RET_IP);
  return true;
}

void lock_map::release() {
  lock_release(*this, LOCKDEP_RET_IP);
}

}  // namespace lockdep

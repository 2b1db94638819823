#include "held_lock_stack.hpp"

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "hang_watchdog.hpp"
#include "lockdep/validator.hpp"
#include "validator_core.hpp"

namespace lockdep::detail {

constinit thread_local thread_lock_state current_thread_lock_state
    [[gnu::tls_model("initial-exec"), gnu::visibility("hidden")]]{};

namespace {

// The threads whose chain-cache hits chain_lookup_hits() sums, and what exited threads counted.
// Never destroyed: threads exit, and locks are used, during static destruction.
struct thread_counters {
  std::mutex lock;  // ours: callers are inside a busy_scope, so it is never validated
  std::vector<thread_lock_state*> live;
  std::uint64_t exited_hits = 0;
};

thread_counters& counters() {
  static auto* shared = new thread_counters;
  return *shared;
}

void count_thread(thread_lock_state& state) {
  busy_scope busy(state);
  std::lock_guard guard(counters().lock);
  counters().live.push_back(&state);
  state.counted = true;
}

void stop_counting_thread(thread_lock_state& state) {
  if (!state.counted) return;
  busy_scope busy(state);
  std::lock_guard guard(counters().lock);
  std::erase(counters().live, &state);
  counters().exited_hits += state.chain_hits.load(std::memory_order_relaxed);
  state.counted = false;
}

// The exit check, then the thread's storage freed, when the thread ends.
void end_thread(thread_lock_state& state) {
  check_no_locks_held();
  state.exiting = true;
  ++state.suppressed;
  state.generation = 0;  // closes the fast path for good
  delete[] state.held;
  state.held = nullptr;
  delete state.held_before_reset;
  state.held_before_reset = nullptr;
  unregister_waiting_record(state);
  stop_counting_thread(state);
  state.depth = 0;
  state.max_depth = 0;
}

// The check runs from a pthread key's destructor. glibc runs those when a thread ends (returns
// from its start routine or calls pthread_exit) and not when the process ends (exit(), or a
// return from main), whereas it runs the thread_local destructors of the thread that calls
// exit() too: a process ending under a lock leaks it to nobody (a fatal-error path exits while
// holding one; the JVM's VM thread exits holding its locks), and reporting it made every such
// program fail under lockdep-run. Key destructors also run after the thread_local ones, so the
// locks those take are still validated.
void end_thread_from_key(void*) {
  end_thread(current_thread_lock_state);
}

struct thread_end_key {
  pthread_key_t key{};
  bool created = false;
};

const thread_end_key& thread_end() {
  // Never deleted: threads end, and need the destructor, during static destruction.
  static const thread_end_key made = [] {
    thread_end_key end;
    end.created = pthread_key_create(&end.key, end_thread_from_key) == 0;
    return end;
  }();
  return made;
}

// Only if the process has used up its pthread keys: a thread_local's destructor, which also
// runs in a thread that calls exit().
struct thread_exit_check {
  ~thread_exit_check() { end_thread(current_thread_lock_state); }
};

// Arms the check for this thread (once; only threads that use a lock pay for it).
void watch_for_thread_end(thread_lock_state& state) {
  if (state.end_watched) return;
  state.end_watched = true;
  const thread_end_key& end = thread_end();
  if (end.created && pthread_setspecific(end.key, &state) == 0) return;
  static thread_local thread_exit_check exit_check;
  (void)exit_check;
}

}  // namespace

void create_thread_end_key() {
  (void)thread_end();
}

bool prepare_thread_state_slow(thread_lock_state& state) {
  if (state.exiting) return false;
  std::uint64_t generation = validator_generation.load(std::memory_order_acquire);
  if (state.held != nullptr && state.generation == generation) return true;

  // First use, or a testing reset forgot every class: held locks recorded before it mean
  // nothing now except that releasing them is fine, and the depth limit may have changed.
  watch_for_thread_end(state);
  // The core first: the process's first lock starts it, and with it the hang watchdog, which
  // must know this thread even if it never waits (the holder of a lock others wait for).
  validator_core& shared = core();
  register_waiting_record(state);
  if (!state.counted) count_thread(state);
  if (state.held != nullptr && state.depth > 0) {
    if (state.held_before_reset == nullptr) {
      state.held_before_reset = new std::vector<const lock_map*>;
    }
    for (std::uint32_t i = 0; i < state.depth; ++i) {
      state.held_before_reset->push_back(state.held[i].instance);
    }
  }
  auto depth = static_cast<std::uint32_t>(
      std::clamp<std::size_t>(shared.config.max_lock_depth, 1, options::lock_depth_ceiling));
  if (state.max_depth != depth) {
    delete[] state.held;
    state.held = new held_lock[depth];
    state.max_depth = depth;
  }
  state.generation = generation;
  state.depth = 0;
  state.chain_key = initial_chain_key;
  return true;
}

bool forget_held_before_reset(thread_lock_state& state, const lock_map& map) {
  if (state.held_before_reset == nullptr) return false;
  std::vector<const lock_map*>& held = *state.held_before_reset;
  auto found = std::find(held.rbegin(), held.rend(), &map);
  if (found == held.rend()) return false;
  held.erase(std::next(found).base());
  return true;
}

void forget_held_before_reset(thread_lock_state& state, const void* from, std::size_t size) {
  if (state.held_before_reset == nullptr) return;
  auto begin = static_cast<const char*>(from);
  std::erase_if(*state.held_before_reset, [&](const lock_map* map) {
    auto address = reinterpret_cast<const char*>(map);
    return address >= begin && address < begin + size;
  });
}

void drop_held_locks_in(thread_lock_state& state, const void* from, std::size_t size) {
  if (state.held == nullptr) return;
  auto begin = reinterpret_cast<std::uintptr_t>(from);
  auto end = begin + size;
  std::uint32_t kept = 0;
  for (std::uint32_t i = 0; i < state.depth; ++i) {
    auto instance = reinterpret_cast<std::uintptr_t>(state.held[i].instance);
    if (instance >= begin && instance < end) continue;
    state.held[kept++] = state.held[i];
  }
  state.depth = kept;  // the chain key is not used while the validator is off
}

std::uint64_t chain_lookup_hits() {
  busy_scope busy(this_thread_state());
  std::lock_guard guard(counters().lock);
  std::uint64_t total = counters().exited_hits;
  for (const thread_lock_state* state : counters().live) {
    total += state->chain_hits.load(std::memory_order_relaxed);
  }
  return total;
}

void lock_thread_counters_for_fork() {
  counters().lock.lock();
}

void unlock_thread_counters_after_fork() {
  counters().lock.unlock();
}

}  // namespace lockdep::detail

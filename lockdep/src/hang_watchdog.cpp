#include "hang_watchdog.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "lockdep/output.hpp"
#include "report_builder.hpp"
#include "report_output.hpp"
#include "thread_identity.hpp"
#include "validator_core.hpp"

namespace lockdep::detail {
namespace {

// The records of live threads. Its lock is a leaf: while it is held only record locks are
// taken (registry first, then a record). Never destroyed: locks are used (and threads set up)
// during static destruction, after a static registry would be gone.
struct waiting_registry {
  std::mutex lock;
  std::vector<waiting_record*> records;
};

waiting_registry& registry() {
  static auto* shared = new waiting_registry;
  return *shared;
}
std::atomic<double> hang_timeout{0};  // seconds; 0: off
// Whether this process's watchdog thread was started. A fork child has none (fork copies only
// the calling thread), so it starts its own on its first wait.
std::atomic<bool> watchdog_started{false};

constexpr std::size_t max_wait_frames = 64;

std::string thread_name(long tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(file, name);
  return name;
}

// A thread's entry, copied out of its record: what a waiting thread held, or how many locks a
// running one holds.
struct waiting_copy {
  long tid;
  bool waiting;
  double since;
  std::vector<held_lock> held;
  std::vector<std::uintptr_t> stack;
  std::uint32_t running_depth;
};

void issue_hung_report(const waiting_copy& hung, const std::vector<waiting_copy>& waiting,
                       double now, double timeout) {
  report hung_task;
  hung_task.kind = report_kind::hung_task;
  hung_task.thread = {thread_name(hung.tid), hung.tid};
  hung_task.timestamp = now;
  hung_task.cpu = current_cpu();
  hung_task.blocked_seconds = now - hung.since;
  hung_task.hang_timeout_seconds = timeout;
  for (std::uintptr_t address : hung.stack) {
    stack_frame frame;
    frame.address = address;  // symbolized at delivery, as every report's frames
    hung_task.backtrace.push_back(std::move(frame));
  }
  // With the validator off, held-lock stacks are no longer kept: nothing to list.
  hung_task.validator_off = !validation_is_on();
  if (hung_task.validator_off) {
    issue(std::move(hung_task));
    return;
  }
  for (const held_lock& held : hung.held) hung_task.held_locks.push_back(describe(held));
  if (!hung_task.held_locks.empty()) hung_task.acquiring = hung_task.held_locks.back();
  for (const waiting_copy& other : waiting) {
    thread_held_locks listed;
    listed.thread = {thread_name(other.tid), other.tid};
    listed.waiting = other.waiting;
    if (other.waiting) {
      for (const held_lock& held : other.held) listed.locks.push_back(describe(held));
      listed.held_count = listed.locks.size();
      listed.waiting_seconds = now - other.since;
    } else {
      listed.held_count = other.running_depth;
    }
    hung_task.all_held_locks.push_back(std::move(listed));
  }
  issue(std::move(hung_task));
}

// One pass: reports each wait longer than the timeout once, with every waiting thread listed.
void check_for_hangs() {
  double timeout = hang_timeout.load(std::memory_order_relaxed);
  if (timeout <= 0) return;
  // Our own locks (the registry's, the records', the graph lock) are not the program's: in the
  // LD_PRELOAD mode they would otherwise be validated through the interposers.
  thread_lock_state& self = this_thread_state();
  busy_scope busy(self);
  double now = seconds_since_start();
  std::vector<waiting_copy> waiting;
  std::vector<std::size_t> newly_hung;  // indexes into `waiting`
  {
    std::lock_guard registry_guard(registry().lock);
    for (waiting_record* record : registry().records) {
      std::lock_guard record_guard(record->lock);
      if (!record->waiting) {
        // Running (or blocked elsewhere): only its depth can be read while it changes.
        std::uint32_t depth = record->state->depth;
        if (depth > 0) waiting.push_back({record->tid, false, 0, {}, {}, depth});
        continue;
      }
      if (now - record->since >= timeout && !record->reported) {
        record->reported = true;
        newly_hung.push_back(waiting.size());
      }
      waiting.push_back({record->tid, true, record->since, record->held, record->stack, 0});
    }
  }
  if (newly_hung.empty()) return;
  // describe() reads the class table; the reports go out once the lock is released.
  in_graph_section([&] {
    for (std::size_t index : newly_hung) issue_hung_report(waiting[index], waiting, now, timeout);
  });
}

void* watch_for_hangs(void*) {
  pthread_setname_np(pthread_self(), "lockdep-hang");
  while (true) {
    // Often enough that a hang is reported within a quarter of the timeout past it.
    double timeout = hang_timeout.load(std::memory_order_relaxed);
    std::this_thread::sleep_for(
        std::chrono::duration<double>(timeout > 0 ? std::clamp(timeout / 4, 0.01, 1.0) : 1.0));
    check_for_hangs();
  }
}

}  // namespace

void register_waiting_record(thread_lock_state& state) {
  if (!hang_watchdog_on() || state.waiting != nullptr) return;
  busy_scope busy(state);  // the registry's lock is ours, not the program's
  auto* record = new waiting_record;
  record->tid = current_thread_identity().tid;
  record->state = &state;
  state.waiting = record;
  std::lock_guard guard(registry().lock);
  registry().records.push_back(record);
}

void unregister_waiting_record(thread_lock_state& state) {
  if (state.waiting == nullptr) return;
  busy_scope busy(state);
  {
    std::lock_guard guard(registry().lock);
    std::erase(registry().records, state.waiting);
  }
  delete state.waiting;
  state.waiting = nullptr;
}

waiting_scope::waiting_scope(const void* ip) {
  thread_lock_state& state = this_thread_state();
  // A thread set up before the watchdog was armed registers on its first wait.
  if (state.waiting == nullptr && state.held != nullptr) register_waiting_record(state);
  record_ = state.waiting;
  if (record_ == nullptr) return;
  busy_scope busy(state);  // stack capture and the record's lock are ours, not the program's
  if (!watchdog_started.load(std::memory_order_relaxed)) [[unlikely]] {
    start_hang_watchdog_if_set();  // a fork child's first wait
  }
  std::uintptr_t frames[max_wait_frames];
  std::size_t count = current_raw_stack(ip, frames, max_wait_frames);
  std::lock_guard guard(record_->lock);
  record_->held.assign(state.held, state.held + state.depth);
  record_->stack.assign(frames, frames + count);
  record_->since = seconds_since_start();
  record_->reported = false;
  record_->waiting = true;
}

waiting_scope::~waiting_scope() {
  if (record_ == nullptr) return;
  busy_scope busy(this_thread_state());
  std::lock_guard guard(record_->lock);
  record_->waiting = false;
}

void set_hang_timeout(double timeout_seconds) {
  hang_timeout.store(timeout_seconds > 0 ? timeout_seconds : 0, std::memory_order_relaxed);
  fast_view.hang_watchdog_armed.store(timeout_seconds > 0, std::memory_order_relaxed);
}

void start_hang_watchdog_if_set() {
  if (!hang_watchdog_on() || watchdog_started.exchange(true)) return;
  // The logger (and its entry in spdlog's registry) made here, not first on the watchdog
  // thread, which is never joined: the registry's destruction at exit then follows its
  // creation on a thread the program joins (ThreadSanitizer saw no order between the two).
  report_logger();
  pthread_t thread;
  if (pthread_create(&thread, nullptr, watch_for_hangs, nullptr) != 0) {
    std::fprintf(stderr, "lockdep: cannot start the hang watchdog thread; hang_timeout ignored\n");
    set_hang_timeout(0);
    return;
  }
  pthread_detach(thread);
}

void lock_waiting_registry_for_fork() {
  registry().lock.lock();
}

void unlock_waiting_registry_after_fork() {
  registry().lock.unlock();
}

void forget_other_threads_waits_in_child() {
  // The other threads are gone, and a wait of theirs in progress at the fork would be reported
  // as a hang of the child's. Their records are dropped, not freed: a record's lock may have
  // been held by its thread when the fork came.
  waiting_record* own = this_thread_state().waiting;
  std::erase_if(registry().records, [own](const waiting_record* record) { return record != own; });
  watchdog_started.store(false, std::memory_order_relaxed);
}

}  // namespace lockdep::detail

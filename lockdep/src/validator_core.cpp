#include "validator_core.hpp"

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "hang_watchdog.hpp"
#include "report_builder.hpp"
#include "state_exports.hpp"
#include "symbolization.hpp"

namespace lockdep::detail {
namespace {

// The rules of the suppressions file at `path`; problems are printed with the line they are
// on, and the rest of the file still applies.
suppressions load_suppressions(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream file(path);
  if (!file) {
    std::fprintf(stderr, "lockdep: cannot read suppressions file %s (%s); none applied\n",
                 path.c_str(), std::strerror(errno));
    return {};
  }
  std::stringstream text;
  text << file.rdbuf();
  std::vector<suppression_error> errors;
  suppressions rules = suppressions::parse(text.str(), &errors);
  for (const suppression_error& error : errors) {
    std::fprintf(stderr, "lockdep: suppressions file %s line %zu: %s; ignored\n", path.c_str(),
                 error.line, error.message.c_str());
  }
  return rules;
}

}  // namespace

validator_core::validator_core(const options& configured) {
  rebuild(configured);
}

void validator_core::rebuild(const options& configured) {
  config = configured;
  // Freed only once the fast path's view points at the new table (its pages are unmapped).
  std::unique_ptr<class_registry> retired_classes = std::move(classes);
  classes = std::make_unique<class_registry>(config.max_classes);
  graph = std::make_unique<dependency_graph>(*classes, config.max_dependencies);
  chains = std::make_unique<chain_cache>(config.max_chains, config.max_chain_hlocks,
                                         &fast_view.chain_table);
  stacks = std::make_unique<stack_store>(config.max_stack_entries);
  indexed_through = 0;
  unindexed_reused_chains.clear();
  reported_ids.clear();
  reports_issued = 0;
  suppressed_reports = 0;
  suppression_rules = std::make_shared<const suppressions>(load_suppressions(config.suppressions));
  set_hang_timeout(config.hang_timeout);
  new_chains = 0;
  chain_hits_at_rebuild = chain_lookup_hits();
  deepest_chain = 0;
  reported_cycles.clear();
  fast_view.class_identities.store(classes->identities(), std::memory_order_release);
  fast_view.class_limit.store(static_cast<std::uint32_t>(classes->capacity()),
                              std::memory_order_release);
}

namespace {

// listeners_lock, unless this thread holds it already (see calling_listeners).
std::unique_lock<std::mutex> lock_listeners(validator_core& shared) {
  if (validator_core::calling_listeners) return {};
  return std::unique_lock(shared.listeners_lock);
}

}  // namespace

void add_report_listener(report_listener* listener) {
  validator_core& shared = core();
  std::unique_lock guard = lock_listeners(shared);
  shared.listeners.push_back(listener);
}

void remove_report_listener(report_listener* listener) {
  validator_core& shared = core();
  std::unique_lock guard = lock_listeners(shared);
  std::erase(shared.listeners, listener);
}

void lock_for_fork() {
  // core(), not a peek: if another thread is creating the validator right now, wait for it, or
  // the child would inherit a half-done initialization.
  validator_core& shared = core();
  shared.graph_lock.lock();
  shared.listeners_lock.lock();
  shared.output_lock.lock();
  lock_waiting_registry_for_fork();
  lock_thread_counters_for_fork();
  lock_symbol_cache_for_fork();
  if (fork_heap_lock.lock != nullptr) fork_heap_lock.lock();
}

void unlock_after_fork() {
  validator_core& shared = core();
  if (fork_heap_lock.unlock != nullptr) fork_heap_lock.unlock();
  unlock_symbol_cache_after_fork();
  unlock_thread_counters_after_fork();
  unlock_waiting_registry_after_fork();
  shared.output_lock.unlock();
  shared.listeners_lock.unlock();
  shared.graph_lock.unlock();
}

namespace {

void unlock_in_fork_child() {
  forget_other_threads_deliveries();
  forget_other_threads_waits_in_child();
  unlock_after_fork();
  restart_dump_thread_in_child();  // with every lock free: the new thread may use them at once
}

}  // namespace

void register_fork_handlers_once() {
  static std::once_flag registered;
  std::call_once(registered,
                 [] { pthread_atfork(lock_for_fork, unlock_after_fork, unlock_in_fork_child); });
}

validator_core& create_core() {
  // Registered before, not during, the initialization below: glibc holds its atfork lock while
  // running prepare handlers, and ours may wait for this initialization to finish.
  register_fork_handlers_once();
  // Never destroyed: locks may be used from static destructors and thread exit.
  static validator_core* shared = new validator_core(current_options());
  created_core.store(shared, std::memory_order_release);
  // After the core is published: the dump and watchdog threads may use it as soon as they run,
  // and must find it.
  static std::once_flag exports_installed;
  std::call_once(exports_installed, [] {
    install_state_exports(shared->config);
    start_hang_watchdog_if_set();
  });
  return *shared;
}

}  // namespace lockdep::detail

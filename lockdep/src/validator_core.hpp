// The validator's shared state: the graph lock and the tables it protects, plus the two atomics
// the lock-free fast path reads (whether validation is on, and the reset generation).
//
// Created on first use and never destroyed, so locks used during static destruction and thread
// exit still find it. Not copyable or movable.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "chain_cache.hpp"
#include "class_registry.hpp"
#include "dependency_graph.hpp"
#include "fast_path_view.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report.hpp"
#include "lockdep/suppressions.hpp"
#include "stack_store.hpp"
#include "stack_capture.hpp"

namespace lockdep::detail {

// Receives every report (testing captures). Called with listeners_lock held and no other
// validator lock.
class report_listener {
 public:
  virtual void on_report(const report& issued) = 0;
  virtual bool echo_to_log() const = 0;

 protected:
  ~report_listener() = default;
};

struct validator_core {
  explicit validator_core(const options& configured);
  validator_core(const validator_core&) = delete;
  validator_core& operator=(const validator_core&) = delete;

  // Replaces every table with empty ones sized by `configured`. Graph lock held.
  void rebuild(const options& configured);

  // The graph lock: a plain std::mutex, never instrumented. Protects everything below except
  // the fast-path reads documented in chain_cache and class_registry.
  std::mutex graph_lock;
  options config;
  std::unique_ptr<class_registry> classes;
  std::unique_ptr<dependency_graph> graph;
  std::unique_ptr<chain_cache> chains;
  std::unique_ptr<stack_store> stacks;
  // Chains recorded but not yet added to their classes' chain lists (see index_new_chains):
  // every id above indexed_through, and reused ids at or below it. Fresh ids only count up, so
  // a new chain costs a list entry only when it reuses a removed chain's record.
  std::uint32_t indexed_through = 0;
  std::vector<std::uint32_t> unindexed_reused_chains;
  // Where a new chain's classes are gathered before the cache copies them (reused, so recording
  // a chain allocates nothing once it has grown).
  std::vector<class_index> chain_scratch;
  // Where a new class's name is built (reused, as chain_scratch), and the place it was built
  // for (class_lookup.cpp).
  struct class_name_scratch {
    std::string text;
    const char* file = nullptr;
    unsigned line = 0;
  };
  class_name_scratch name_scratch;

  // Counters for /proc/lockdep_stats.
  std::uint64_t new_chains = 0;  // chains validated by the slow path (chain lookup misses)
  std::uint64_t chain_hits_at_rebuild = 0;  // chain_lookup_hits() counts from here
  std::size_t deepest_chain = 0;            // the most classes in one validated chain
  std::size_t reports_issued = 0;
  std::uint64_t suppressed_reports = 0;
  // From config.suppressions; never null. Shared so that a report delivered after the graph
  // lock is released keeps the rules it was issued under, whatever a testing reset does.
  std::shared_ptr<const suppressions> suppression_rules;
  // The class cycles of the first circular reports, acquiring class first (for the graph
  // dumps), each class with its identity then: a slot reused since is not that class.
  struct cycle_member {
    class_index lock_class;
    const void* identity;
  };
  static constexpr std::size_t max_reported_cycles = 64;
  std::vector<std::vector<cycle_member>> reported_cycles;
  std::unordered_set<std::string> reported_ids;  // keep_going: each problem once

  // Reports are delivered after the graph lock is released, so listeners have their own
  // (leaf) lock.
  std::mutex listeners_lock;
  std::vector<report_listener*> listeners;
  // Set while this thread calls the listeners (holding listeners_lock). A listener that ends
  // the process runs the static destructors on this thread, and a static subscription's then
  // removes itself: it must not lock again.
  static inline thread_local bool calling_listeners = false;
  // Serializes printing so the lines of two reports never interleave. A leaf lock: nothing is
  // acquired while it is held except the log sinks' own locks.
  std::mutex output_lock;
};

// Starts and stops delivering reports to `listener` (testing captures, subscriptions).
void add_report_listener(report_listener* listener);
void remove_report_listener(report_listener* listener);

inline std::atomic<validator_core*> created_core{nullptr};
validator_core& create_core();

// fork(): takes every lock of the validator (graph, listeners, output, symbol cache), so that no
// thread is validating, delivering, printing or symbolizing when the child is made, and the
// child inherits them all free; unlock_after_fork() runs in the parent and in the child (the
// forking thread owns them). The child also forgets the other threads' undelivered reports and
// waits, and starts its own dump_signal thread. Registered with pthread_atfork once, when the
// validator is created or earlier by register_fork_handlers_once(): code with locks of its own
// that it holds while calling the validator (the preload's tables) registers its handlers after
// this, so that its prepare handler runs first.
void lock_for_fork();
void unlock_after_fork();
void register_fork_handlers_once();
// A lock that lock_for_fork() takes after all of its own and unlock_after_fork() releases first:
// the preloaded library's heap (preload/internal_heap.hpp), which the holders of every other
// lock may allocate from. None in the linked library. Set once, before the program forks.
struct innermost_fork_lock {
  void (*lock)() = nullptr;
  void (*unlock)() = nullptr;
};
inline innermost_fork_lock fork_heap_lock;

// The shared state, created on first use. Inline: the fast path calls it on every acquisition.
inline validator_core& core() {
  validator_core* existing = created_core.load(std::memory_order_acquire);
  return existing != nullptr ? *existing : create_core();
}

}  // namespace lockdep::detail

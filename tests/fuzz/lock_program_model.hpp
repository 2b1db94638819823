// The reference model the lock program fuzzer holds the validator to: lockdep's documented
// rules (README "Semantics" and "Reports", validator.hpp, report.hpp) for a few threads, each
// with its own held-lock stack, over one shared set of lock classes and dependencies.
//
// For each operation the model says which reports lockdep must issue, in order, with their
// kind, classes and the thread's held locks when issued:
// - recursive locking iff a checked, blocking acquisition takes a class the thread holds
//   (unless both are reads and the new one a recursive read);
// - a circular dependency iff a dependency the acquisition adds (from the held locks down to
//   the first checked non-trylock) closes a strong cycle: a cycle of dependencies in which no
//   class is entered by a recursive read and left from a shared hold. Cycles are found by the
//   differential test's brute-force enumeration of simple cycles (lock_order_oracle.hpp), not
//   by a search like the validator's;
// - bad unlock balance iff a thread releases a lock it does not hold; held lock freed iff it
//   destroys a lock it holds; still has locks held iff it exits holding some; the depth limit
//   and subclass 8 or more are reported as such;
// - chains of held classes (with their read types) already validated are not validated again,
//   as in the kernel, which makes some trylocked or unchecked dependencies invisible
//   (differential_test.cpp explains why that is the kernel's behaviour and so the port's).
// After a report lockdep turns itself off (always after the depth and subclass reports): the
// model then expects no more reports and "unknown" from held-state queries. With keep_going it
// goes on: each distinct problem is reported once (see report_matcher.hpp).
//
// A released lock that is not on top of the stack takes the locks above it again, and so does
// a destroyed one, as the kernel re-acquires them. The model keeps at most max_classes classes
// alive (a lock with a subclass is a class of its own); an acquisition needing one more is not
// run (runnable() says so), nor is destroying a lock another thread holds (use after free in
// the program, which lockdep cannot see: it checks the destroying thread only).
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lock_order_oracle.hpp"
#include "lock_program.hpp"
#include "lockdep/lock_map.hpp"
#include "lockdep/validator.hpp"

namespace lockdep_fuzz {

using lockdep::held_state;
using lockdep::report_kind;
namespace oracle = lockdep_differential;

constexpr unsigned max_classes = oracle::max_classes;

struct expected_report {
  report_kind kind = report_kind::circular_dependency;
  unsigned thread = 0;
  std::string acquiring;          // class name, "" when the report names none
  std::string holding;            // class name, "" when the report names none
  std::vector<std::string> held;  // the thread's held classes when issued, bottom first
  unsigned subclass = 0;          // invalid_subclass
  oracle::dep_kind closing;       // circular: the refused dependency holding --> acquiring
};

struct expected_outcome {
  std::vector<expected_report> reports;
  bool release_balanced = true;              // release: what lock_release returns
  held_state queried = held_state::unknown;  // query: what lock_held_state returns
};

class lock_program_model {
 public:
  explicit lock_program_model(const lock_program& program)
      : keep_going_(program.keep_going),
        depth_limit_(program.depth_limit),
        held_(program.threads) {}

  bool runnable(const lock_op& op) const {
    if (op.kind == verb::destroy) {
      for (unsigned thread = 0; thread < held_.size(); ++thread) {
        if (thread != op.thread && holds(thread, op.lock)) return false;
      }
      return true;
    }
    if (!validating_ || (op.kind != verb::acquire && op.kind != verb::might_lock)) return true;
    unsigned subclass = op.kind == verb::acquire ? op.subclass : 0;
    if (subclass >= lockdep::max_subclasses) return true;
    return find_class(op.lock, subclass) || free_slot();
  }

  expected_outcome apply(const lock_op& op) {
    expected_outcome outcome;
    switch (op.kind) {
      case verb::acquire:
        acquire(op.thread, op.lock, op.subclass, op.access, op.trylock, op.checked, outcome);
        break;
      case verb::release:
        release(op.thread, op.lock, outcome);
        break;
      case verb::destroy:
        destroy(op.thread, op.lock, outcome);
        break;
      case verb::query:
        outcome.queried = query(op);
        break;
      case verb::might_lock:
        acquire(op.thread, op.lock, 0, op.access, false, true, outcome);
        release(op.thread, op.lock, outcome);
        break;
    }
    return outcome;
  }

  expected_outcome thread_exit(unsigned thread) {
    expected_outcome outcome;
    if (validating_ && !held_[thread].empty()) {
      issue(outcome, report_kind::locks_held_at_exit, thread, "", "");
    }
    held_[thread].clear();
    return outcome;
  }

  // For checking a reported cycle: the live class printed as `name`, and the dependencies.
  std::optional<unsigned> class_named(const std::string& name) const {
    for (unsigned index = 0; index < max_classes; ++index) {
      if (slots_[index].live && class_name(index) == name) return index;
    }
    return std::nullopt;
  }
  const oracle::dep_graph& graph() const { return graph_; }

 private:
  struct held_entry {
    unsigned lock;
    unsigned lock_class;
    lock_access access;
    bool trylock;
    bool checked;
  };
  struct class_slot {
    bool live = false;
    unsigned lock = 0;
    unsigned subclass = 0;
  };
  using chain = std::vector<std::pair<unsigned, lock_access>>;

  bool holds(unsigned thread, unsigned lock) const {
    return std::any_of(held_[thread].begin(), held_[thread].end(),
                       [lock](const held_entry& entry) { return entry.lock == lock; });
  }

  std::optional<unsigned> find_class(unsigned lock, unsigned subclass) const {
    for (unsigned index = 0; index < max_classes; ++index) {
      const class_slot& slot = slots_[index];
      if (slot.live && slot.lock == lock && slot.subclass == subclass) return index;
    }
    return std::nullopt;
  }
  std::optional<unsigned> free_slot() const {
    for (unsigned index = 0; index < max_classes; ++index) {
      if (!slots_[index].live) return index;
    }
    return std::nullopt;
  }
  unsigned class_for(unsigned lock, unsigned subclass) {
    if (std::optional<unsigned> known = find_class(lock, subclass)) return *known;
    unsigned index = *free_slot();  // runnable() made sure there is one
    slots_[index] = {true, lock, subclass};
    return index;
  }
  std::string class_name(unsigned index) const {
    const class_slot& slot = slots_[index];
    std::string name = lock_names[slot.lock];
    if (slot.subclass != 0) name += "/" + std::to_string(slot.subclass);
    return name;
  }

  void issue(expected_outcome& outcome, report_kind kind, unsigned thread, std::string acquiring,
             std::string holding) {
    expected_report expected;
    expected.kind = kind;
    expected.thread = thread;
    expected.acquiring = std::move(acquiring);
    expected.holding = std::move(holding);
    for (const held_entry& entry : held_[thread]) {
      expected.held.push_back(class_name(entry.lock_class));
    }
    outcome.reports.push_back(std::move(expected));
    if (!keep_going_) validating_ = false;
  }

  void acquire(unsigned thread, unsigned lock, unsigned subclass, lock_access access, bool trylock,
               bool checked, expected_outcome& outcome) {
    std::vector<held_entry>& stack = held_[thread];
    if (validating_ && subclass >= lockdep::max_subclasses) {
      issue(outcome, report_kind::invalid_subclass, thread, "", "");
      outcome.reports.back().subclass = subclass;
      validating_ = false;  // whatever keep_going says
    } else if (validating_) {
      held_entry next{lock, class_for(lock, subclass), access, trylock, checked};
      if (stack.size() < depth_limit_) {
        push(thread, next, outcome);
        return;
      }
      issue(outcome, report_kind::lock_depth_overflow, thread, class_name(next.lock_class), "");
      validating_ = false;
    }
    // Lockdep is off: the entry only records what the program holds, for runnable().
    stack.push_back({lock, 0, access, trylock, checked});
  }

  // Validates `next` on top of the thread's held locks (a new chain only), then pushes it.
  void push(unsigned thread, const held_entry& next, expected_outcome& outcome) {
    std::vector<held_entry>& stack = held_[thread];
    // A trylock cannot wait and an unchecked lock is only tracked: nothing to validate.
    if (validating_ && next.checked && !next.trylock && first_time(stack, next)) {
      if (const held_entry* same = same_class_held(stack, next)) {
        issue(outcome, report_kind::recursive_locking, thread, class_name(next.lock_class),
              class_name(same->lock_class));
      } else {
        add_dependencies(thread, next, outcome);
      }
    }
    stack.push_back(next);
  }

  // The chain cache: the held classes with their read types, then the new one. Recorded
  // before it is checked, so a chain reported once is not reported again.
  bool first_time(const std::vector<held_entry>& stack, const held_entry& next) {
    chain key;
    for (const held_entry& entry : stack) key.emplace_back(entry.lock_class, entry.access);
    key.emplace_back(next.lock_class, next.access);
    return chains_.insert(std::move(key)).second;
  }

  static const held_entry* same_class_held(const std::vector<held_entry>& stack,
                                           const held_entry& next) {
    for (const held_entry& held : stack) {
      if (held.lock_class != next.lock_class) continue;
      bool recursive_read =
          next.access == lock_access::shared_recursive && held.access != lock_access::exclusive;
      if (!recursive_read) return &held;
    }
    return nullptr;
  }

  // From the top of the stack down to the first checked lock that is not a trylock: that one
  // already depends on everything below it. Unchecked locks take no part.
  void add_dependencies(unsigned thread, const held_entry& next, expected_outcome& outcome) {
    const std::vector<held_entry>& stack = held_[thread];
    for (std::size_t i = stack.size(); i-- > 0;) {
      const held_entry& held = stack[i];
      if (!held.checked) continue;
      oracle::dep_kind kind = oracle::dependency_kind(held.access, next.access);
      oracle::kind_set& kinds = graph_[held.lock_class][next.lock_class];
      oracle::kind_set bit = oracle::bit_of(kind);
      if ((kinds & bit) == 0) {
        kinds |= bit;
        if (oracle::cycle_enumerator(graph_, max_classes).run().strong) {
          kinds &= static_cast<oracle::kind_set>(~bit);  // refused: not recorded
          report_kind found = held.lock_class == next.lock_class ? report_kind::recursive_locking
                                                                 : report_kind::circular_dependency;
          issue(outcome, found, thread, class_name(next.lock_class), class_name(held.lock_class));
          outcome.reports.back().closing = kind;
          return;
        }
      }
      if (!held.trylock) return;
    }
  }

  void release(unsigned thread, unsigned lock, expected_outcome& outcome) {
    std::vector<held_entry>& stack = held_[thread];
    std::size_t index = stack.size();
    while (index > 0 && stack[index - 1].lock != lock) --index;
    if (index == 0) {
      if (validating_) {
        issue(outcome, report_kind::bad_unlock_balance, thread, lock_names[lock], "");
        outcome.release_balanced = false;
      }
      return;
    }
    // Out of order: the locks above the released one are taken again.
    std::vector<held_entry> above(stack.begin() + static_cast<std::ptrdiff_t>(index), stack.end());
    stack.resize(index - 1);
    for (const held_entry& again : above) push(thread, again, outcome);
  }

  void destroy(unsigned thread, unsigned lock, expected_outcome& outcome) {
    std::vector<held_entry>& stack = held_[thread];
    auto first = std::find_if(stack.begin(), stack.end(),
                              [lock](const held_entry& entry) { return entry.lock == lock; });
    if (first != stack.end()) {
      if (validating_) {
        issue(outcome, report_kind::held_lock_freed, thread, "", class_name(first->lock_class));
      }
      // The lock is gone, with every hold of it.
      std::vector<held_entry> above(first + 1, stack.end());
      stack.erase(first, stack.end());
      for (const held_entry& again : above) {
        if (again.lock != lock) push(thread, again, outcome);
      }
    }
    forget_classes(lock);
  }

  // Destroying a lock forgets its classes, their dependencies and the chains through them.
  void forget_classes(unsigned lock) {
    for (unsigned index = 0; index < max_classes; ++index) {
      if (!slots_[index].live || slots_[index].lock != lock) continue;
      slots_[index].live = false;
      for (unsigned other = 0; other < max_classes; ++other) {
        graph_[index][other] = 0;
        graph_[other][index] = 0;
      }
      std::erase_if(chains_, [index](const chain& known) {
        return std::any_of(known.begin(), known.end(),
                           [index](const auto& member) { return member.first == index; });
      });
    }
  }

  held_state query(const lock_op& op) const {
    if (!validating_) return held_state::unknown;
    const std::vector<held_entry>& stack = held_[op.thread];
    for (std::size_t i = stack.size(); i-- > 0;) {
      if (stack[i].lock != op.lock) continue;
      if (op.query_any_access) return held_state::held;
      bool held_for_read = stack[i].access != lock_access::exclusive;
      bool asked_for_read = op.access != lock_access::exclusive;
      return held_for_read == asked_for_read ? held_state::held : held_state::not_held;
    }
    return held_state::not_held;
  }

  bool keep_going_;
  unsigned depth_limit_;
  bool validating_ = true;
  std::vector<std::vector<held_entry>> held_;  // per thread, bottom first
  std::array<class_slot, max_classes> slots_{};
  oracle::dep_graph graph_{};
  std::set<chain> chains_;
};

}  // namespace lockdep_fuzz

// The brute-force oracle of the differential test: records dependencies the kernel's way
// and decides, by enumerating simple cycles, whether lockdep must report and where.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "random_lock_program.hpp"

namespace lockdep_differential {

using lockdep::lock_access;
using lockdep::report_kind;

// A dependency kind, in the words of lockdep-design.rst: the holder was (S)hared or
// (E)xclusive, the acquirer a (R)ecursive reader or (N)ot. A pair of classes keeps the set of
// kinds seen, as 4 bits.
struct dep_kind {
  bool from_shared = false;
  bool to_recursive = false;
};
using kind_set = std::uint8_t;
using dep_graph = std::array<std::array<kind_set, max_classes>, max_classes>;

constexpr unsigned kind_count = 4;

inline kind_set bit_of(dep_kind kind) {
  return static_cast<kind_set>(1u << (2 * kind.from_shared + kind.to_recursive));
}
inline dep_kind kind_of_bit(unsigned bit) {
  return {bit >= 2, bit % 2 == 1};
}

inline dep_kind dependency_kind(lock_access holder, lock_access acquirer) {
  return {holder != lock_access::exclusive, acquirer == lock_access::shared_recursive};
}

// A recursive reader waits only for a writer that holds the lock, so entering a class as one
// (xR) and leaving it from a shared hold (Sx) is a junction where nobody waits.
inline bool junction_blocks(dep_kind in, dep_kind out) {
  return !(in.to_recursive && out.from_shared);
}

// The kinds of `candidates` that may follow some kind in `before` on a strong path.
inline kind_set may_follow(kind_set before, kind_set candidates) {
  kind_set allowed = 0;
  for (unsigned in = 0; in < kind_count; ++in) {
    if (!(before >> in & 1)) continue;
    for (unsigned out = 0; out < kind_count; ++out) {
      if ((candidates >> out & 1) && junction_blocks(kind_of_bit(in), kind_of_bit(out))) {
        allowed |= static_cast<kind_set>(1u << out);
      }
    }
  }
  return allowed;
}

// Whether one kind per edge can be chosen so that every junction of the closed walk blocks,
// including the one from the last edge back to the first: tries each kind of the first edge
// and carries around the set of kinds the current edge may have.
inline bool can_be_strong(const std::vector<kind_set>& edges) {
  for (unsigned first = 0; first < kind_count; ++first) {
    if (!(edges.front() >> first & 1)) continue;
    kind_set current = static_cast<kind_set>(1u << first);
    for (std::size_t i = 1; i < edges.size(); ++i) current = may_follow(current, edges[i]);
    if (may_follow(current, static_cast<kind_set>(1u << first)) != 0) return true;
  }
  return false;
}

struct cycle_summary {
  bool strong = false;
  bool weak_only_multi_class = false;  // a cycle over 2+ classes exists, none of them strong
};

// Every simple cycle of the graph, each found once from its smallest class.
class cycle_enumerator {
 public:
  cycle_enumerator(const dep_graph& graph, unsigned classes) : graph_(graph), classes_(classes) {}

  cycle_summary run() {
    bool any_multi_class = false;
    for (unsigned start = 0; start < classes_ && !strong_; ++start) {
      path_ = {start};
      extend(start, any_multi_class);
    }
    return {strong_, any_multi_class && !strong_};
  }

 private:
  void extend(unsigned start, bool& any_multi_class) {
    unsigned at = path_.back();
    for (unsigned next = start; next < classes_ && !strong_; ++next) {
      if (graph_[at][next] == 0) continue;
      if (next == start) {
        std::vector<kind_set> edges;
        for (std::size_t i = 0; i < path_.size(); ++i) {
          edges.push_back(graph_[path_[i]][path_[(i + 1) % path_.size()]]);
        }
        if (path_.size() > 1) any_multi_class = true;
        strong_ = can_be_strong(edges);
      } else if (std::find(path_.begin(), path_.end(), next) == path_.end()) {
        path_.push_back(next);
        extend(start, any_multi_class);
        path_.pop_back();
      }
    }
  }

  const dep_graph& graph_;
  unsigned classes_;
  std::vector<unsigned> path_;
  bool strong_ = false;
};

struct finding {
  std::size_t op_index = 0;
  report_kind kind = report_kind::circular_dependency;
  unsigned acquiring = 0;
  unsigned holding = 0;
  dep_kind closing;   // circular: the kind of the dependency holding --> acquiring
  dep_graph graph{};  // the dependencies at that point, the closing one included
};

inline std::string finding_text(const finding& found) {
  return std::string(lockdep::to_string(found.kind)) + " at #" + std::to_string(found.op_index) +
         " acquiring " + class_names[found.acquiring] + " holding " + class_names[found.holding];
}

class oracle {
 public:
  oracle(unsigned classes, const oracle_rules& rules)
      : classes_(classes), walk_(rules.walk), chain_cache_(rules.chain_cache) {}

  // Replays the program up to its first problem.
  std::optional<finding> run(const program& replayed) {
    for (std::size_t i = 0; i < replayed.ops.size(); ++i) {
      const op& step = replayed.ops[i];
      std::optional<finding> found =
          step.kind == op_kind::acquire
              ? acquire({step.lock, step.access, step.trylock, step.checked})
              : release(step.lock);
      if (found) {
        found->op_index = i;
        found->graph = graph_;
        return found;
      }
    }
    return std::nullopt;
  }

  bool saw_weak_cycle() const { return saw_weak_cycle_; }

 private:
  struct held_lock {
    unsigned lock;
    lock_access access;
    bool trylock;
    bool checked;
  };

  std::optional<finding> acquire(const held_lock& next) {
    // A trylock cannot wait, so nothing is checked or recorded into it; nor into an unchecked
    // lock, which is only tracked.
    if (next.checked && !next.trylock && (!chain_cache_ || first_time(next))) {
      for (const held_lock& held : held_) {
        if (held.lock == next.lock && !recursion_allowed(held, next)) {
          return finding{0, report_kind::recursive_locking, next.lock, held.lock, {}};
        }
      }
      // Nearest first, as the validator adds them: the first one closing a cycle is reported.
      for (std::size_t i = held_.size(); i-- > 0;) {
        if (!held_[i].checked) continue;  // takes no part in dependencies
        if (add_dependency(held_[i], next)) {
          report_kind kind = held_[i].lock == next.lock ? report_kind::recursive_locking
                                                        : report_kind::circular_dependency;
          return finding{0, kind, next.lock, held_[i].lock,
                         dependency_kind(held_[i].access, next.access)};
        }
        if (walk_ == dependency_walk::kernel && !held_[i].trylock) break;
      }
    }
    held_.push_back(next);
    return std::nullopt;
  }

  // Out of order, the locks above the released one are taken again on top of what remains.
  std::optional<finding> release(unsigned lock) {
    std::size_t index = held_.size();
    while (held_[--index].lock != lock) {
    }
    std::vector<held_lock> above(held_.begin() + static_cast<std::ptrdiff_t>(index) + 1,
                                 held_.end());
    held_.resize(index);
    for (const held_lock& again : above) {
      if (std::optional<finding> found = acquire(again)) return found;
    }
    return std::nullopt;
  }

  // The kernel's chain cache: a sequence of held classes with their read types, ending with
  // the new lock, is validated only the first time.
  bool first_time(const held_lock& next) {
    std::vector<std::pair<unsigned, lock_access>> chain;
    for (const held_lock& held : held_) chain.emplace_back(held.lock, held.access);
    chain.emplace_back(next.lock, next.access);
    return validated_chains_.insert(chain).second;
  }

  static bool recursion_allowed(const held_lock& held, const held_lock& next) {
    return next.access == lock_access::shared_recursive && held.access != lock_access::exclusive;
  }

  // Records held --> next; true if the graph now has a strong cycle.
  bool add_dependency(const held_lock& held, const held_lock& next) {
    kind_set& kinds = graph_[held.lock][next.lock];
    kind_set before = kinds;
    kinds |= bit_of(dependency_kind(held.access, next.access));
    if (kinds == before) return false;  // the graph was checked with this dependency already
    cycle_summary cycles = cycle_enumerator(graph_, classes_).run();
    if (cycles.weak_only_multi_class) saw_weak_cycle_ = true;
    return cycles.strong;
  }

  unsigned classes_;
  dependency_walk walk_;
  bool chain_cache_;
  std::vector<held_lock> held_;
  std::set<std::vector<std::pair<unsigned, lock_access>>> validated_chains_;
  dep_graph graph_{};
  bool saw_weak_cycle_ = false;
};

}  // namespace lockdep_differential

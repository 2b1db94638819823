// Compares the reports lockdep issued for one operation of a lock program with the ones the
// model expects (lock_program_model.hpp): same order, kind, thread, classes and held locks;
// for a circular dependency, a cycle that runs from the acquired class to the held one over
// dependencies the model recorded, and is strong once the refused dependency closes it.
//
// With keep_going lockdep reports each distinct problem once, by the report's id (its kind and
// the class names involved). The matcher keys what was issued the same way, so an expected
// report whose key was issued before must not be issued again. A circular report's id holds
// the cycle lockdep found, which the model does not predict (it knows that a strong cycle
// exists, not which path a search returns first), so an expected circular report may be
// missing only when one with the same two classes was issued before. Not copyable or movable.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "lock_program_model.hpp"
#include "lockdep/report.hpp"

namespace lockdep_fuzz {

class report_matcher {
 public:
  report_matcher(bool keep_going, std::vector<long> thread_ids)
      : keep_going_(keep_going), thread_ids_(std::move(thread_ids)) {}
  report_matcher(const report_matcher&) = delete;
  report_matcher& operator=(const report_matcher&) = delete;

  // What is wrong with `issued` (the operation's reports, in order), or nothing.
  std::optional<std::string> match(const std::vector<expected_report>& expected,
                                   const std::vector<lockdep::report>& issued,
                                   const lock_program_model& model) {
    std::size_t next = 0;
    for (const expected_report& wanted : expected) {
      bool circular = wanted.kind == report_kind::circular_dependency;
      if (keep_going_ && !circular && issued_keys_.contains(key_of(wanted))) continue;
      std::string wrong = next < issued.size() ? mismatch(wanted, issued[next], model)
                                               : std::string("nothing was issued");
      if (wrong.empty()) {
        remember(wanted);
        ++next;
        continue;
      }
      if (keep_going_ && circular && issued_cycles_.contains({wanted.acquiring, wanted.holding})) {
        continue;  // the same problem, reported by another cycle before
      }
      return "expected " + text(wanted) + "; " + wrong;
    }
    if (next < issued.size()) return "unexpected report: " + text(issued[next]);
    return std::nullopt;
  }

 private:
  using key = std::tuple<report_kind, std::string, std::string, std::vector<std::string>>;

  static key key_of(const expected_report& wanted) {
    // Held locks name the problem only when they are the problem.
    bool by_held = wanted.kind == report_kind::locks_held_at_exit;
    return {wanted.kind, wanted.acquiring, wanted.holding,
            by_held ? wanted.held : std::vector<std::string>{}};
  }

  void remember(const expected_report& wanted) {
    if (wanted.kind == report_kind::circular_dependency) {
      issued_cycles_.insert({wanted.acquiring, wanted.holding});
    } else {
      issued_keys_.insert(key_of(wanted));
    }
  }

  static std::string names(const std::vector<std::string>& list) {
    std::string joined = "[";
    for (const std::string& name : list) joined += (joined.size() > 1 ? " " : "") + name;
    return joined + "]";
  }

  static std::string text(const expected_report& wanted) {
    return std::string(lockdep::to_string(wanted.kind)) + " on T" + std::to_string(wanted.thread) +
           " acquiring '" + wanted.acquiring + "' holding '" + wanted.holding + "' with held " +
           names(wanted.held);
  }

  static std::string text(const lockdep::report& issued) {
    std::vector<std::string> held;
    for (const lockdep::lock_description& lock : issued.held_locks) {
      held.push_back(lock.class_name);
    }
    std::string described = std::string(lockdep::to_string(issued.kind)) + " by tid " +
                            std::to_string(issued.thread.tid) + " acquiring '" +
                            issued.acquiring.class_name + "' holding '" +
                            issued.holding.class_name + "' with held " + names(held);
    if (issued.kind == report_kind::circular_dependency) {
      described += ", cycle " + names(issued.cycle());
    }
    return described;
  }

  // Empty when `issued` is the expected report.
  std::string mismatch(const expected_report& wanted, const lockdep::report& issued,
                       const lock_program_model& model) const {
    std::string got = "issued " + text(issued);
    std::vector<std::string> held;
    for (const lockdep::lock_description& lock : issued.held_locks) {
      held.push_back(lock.class_name);
    }
    if (issued.kind != wanted.kind || issued.thread.tid != thread_ids_[wanted.thread] ||
        held != wanted.held) {
      return got;
    }
    switch (wanted.kind) {
      case report_kind::circular_dependency:
        if (issued.acquiring.class_name != wanted.acquiring ||
            issued.holding.class_name != wanted.holding) {
          return got;
        }
        return cycle_mismatch(wanted, issued, model, got);
      case report_kind::recursive_locking:
        return issued.acquiring.class_name == wanted.acquiring &&
                       issued.holding.class_name == wanted.holding
                   ? ""
                   : got;
      case report_kind::bad_unlock_balance:
      case report_kind::lock_depth_overflow:
        return issued.acquiring.class_name == wanted.acquiring ? "" : got;
      case report_kind::held_lock_freed:
        return issued.holding.class_name == wanted.holding ? "" : got;
      case report_kind::invalid_subclass:
        return issued.subclass == wanted.subclass ? "" : got;
      default:
        return "";  // locks_held_at_exit: kind, thread and held locks are all it says
    }
  }

  static std::string cycle_mismatch(const expected_report& wanted, const lockdep::report& issued,
                                    const lock_program_model& model, const std::string& got) {
    std::vector<std::string> cycle = issued.cycle();
    if (cycle.size() < 2 || cycle.front() != wanted.acquiring || cycle.back() != wanted.holding) {
      return got + ": the cycle does not run from the acquired class to the held one";
    }
    std::vector<oracle::kind_set> edges;
    for (std::size_t i = 0; i + 1 < cycle.size(); ++i) {
      std::optional<unsigned> from = model.class_named(cycle[i]);
      std::optional<unsigned> to = model.class_named(cycle[i + 1]);
      if (!from || !to || model.graph()[*from][*to] == 0) {
        return got + ": " + cycle[i] + " -> " + cycle[i + 1] + " was never recorded";
      }
      edges.push_back(model.graph()[*from][*to]);
    }
    edges.push_back(oracle::bit_of(wanted.closing));
    if (!oracle::can_be_strong(edges)) return got + ": the reported cycle is not strong";
    return "";
  }

  bool keep_going_;
  std::vector<long> thread_ids_;
  std::set<key> issued_keys_;
  std::set<std::pair<std::string, std::string>> issued_cycles_;
};

}  // namespace lockdep_fuzz

// Suppressions: silencing known reports without silencing the validator, as the sanitizers'
// suppression files do. A suppressed report is counted (validator_stats::suppressed_reports),
// not printed, not handed to subscriptions, and does not turn the validator off.
//
// The file (LOCKDEP_OPTIONS suppressions=PATH) has one rule per line; `#` starts a comment;
// blank lines are ignored; `*` in a pattern matches any run of characters:
//
//   # this one order between two classes is known and accepted
//   order: &fs_info->commit_root_sem -> pcpu_alloc_mutex
//   # any report with a frame in these functions
//   function: legacy_cache_*
//
// `order: A -> B` suppresses a report whose cycle has the dependency A -> B (for a circular
// report: each dependency of its `the existing dependency chain` blocks, and the one refused from
// the held lock back to the acquired one: each `-> #N` block is reached from the block after
// it) or, for `A -> A`, recursive locking of A. Class
// names are the printed ones (with `#N` and `/N` suffixes; `name*` matches all of them).
// `function: F` suppresses a report with a frame in function F (demangled, without parameters,
// e.g. `my::cache::refill`): its backtrace, the traces of its dependency chain, or where one
// of its locks was taken. Reports that a table is full or the lock depth overflowed are never
// suppressed: the validator cannot go on without the room.
//
// Thread safety: a parsed `suppressions` is immutable; its const methods may run concurrently.
// Copyable and movable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lockdep/report.hpp"

namespace lockdep {

struct suppression_error {
  std::size_t line;  // 1-based
  std::string message;
};

class suppressions {
 public:
  // Parses suppression-file text. Malformed lines are described in `errors` (when given) and
  // skipped; every valid line applies.
  static suppressions parse(std::string_view text, std::vector<suppression_error>* errors);

  bool empty() const { return orders_.empty() && functions_.empty(); }
  bool has_function_rules() const { return !functions_.empty(); }
  bool has_order_rules() const { return !orders_.empty(); }
  // Whether the report can be suppressed at all (not a full table or a depth overflow).
  static bool applies_to(const report& candidate);
  // A rule on class names matches (needs no symbolized frames).
  bool suppresses_by_order(const report& candidate) const;
  // A rule on functions matches one of the report's symbolized frames.
  bool suppresses_by_function(const report& candidate) const;

 private:
  struct order_rule {
    std::string from;
    std::string to;
  };
  std::vector<order_rule> orders_;
  std::vector<std::string> functions_;
};

// Whether `text` matches `pattern` entirely, `*` matching any run of characters (also empty).
bool matches_pattern(std::string_view pattern, std::string_view text);

}  // namespace lockdep

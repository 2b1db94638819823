// libFuzzer target: lockdep::suppressions::parse and the matching of its rules.
//
// Input: the suppression file's text, then optionally, each after a NUL byte, the class names
// of a report (the held class, a class in between, the acquired class) and a function name.
// The parse must report the reference's error lines (suppressions_reference.hpp) and hold
// rules exactly when it does; matches_pattern must agree with the reference matcher on every
// rule's patterns against those names; and suppresses_by_order / suppresses_by_function must
// decide, for a recursive-locking report, a circular report through the three classes and
// reports that cannot be suppressed, what the documented rules say.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "fuzz_check.hpp"
#include "lockdep/report.hpp"
#include "lockdep/suppressions.hpp"
#include "suppressions_reference.hpp"

namespace {

using lockdep::report;
using lockdep::report_kind;
using lockdep_fuzz::fail;
using lockdep_fuzz::glob_matches_reference;
using lockdep_fuzz::reference_suppressions;

struct report_names {
  std::string holding = "A";
  std::string between = "B";
  std::string acquiring = "C";
  std::string function = "f";
};

report_names names_after(std::string_view rest) {
  report_names names;
  std::array<std::string*, 4> fields = {&names.holding, &names.between, &names.acquiring,
                                        &names.function};
  for (std::string* field : fields) {
    if (rest.empty()) break;
    std::size_t end = rest.find('\0');
    *field = std::string(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
  return names;
}

// A frame lockdep could not name does not match any function rule, not even `*`.
lockdep::stack_trace frames_with(const std::string& function) {
  lockdep::stack_frame unnamed;
  unnamed.address = 0x1000;
  lockdep::stack_frame named;
  named.address = 0x2000;
  named.function = function;
  return {unnamed, named};
}

report recursive_report(const report_names& names) {
  report recursive;
  recursive.kind = report_kind::recursive_locking;
  recursive.holding.class_name = names.holding;
  recursive.acquiring.class_name = names.acquiring;
  recursive.backtrace = frames_with(names.function);
  return recursive;
}

// holding --> ... is printed #2 (holding), #1 (between), #0 (acquiring): the recorded
// dependencies are acquiring --> between --> holding, the refused one holding --> acquiring.
report circular_report(const report_names& names) {
  report circular;
  circular.kind = report_kind::circular_dependency;
  circular.holding.class_name = names.holding;
  circular.acquiring.class_name = names.acquiring;
  for (const std::string* name : {&names.holding, &names.between, &names.acquiring}) {
    lockdep::dependency_step step;
    step.class_name = *name;
    circular.chain.push_back(step);
  }
  circular.chain[1].trace = frames_with(names.function);
  return circular;
}

bool order_rule_matches(const reference_suppressions& rules, const std::string& from,
                        const std::string& to) {
  return std::any_of(rules.orders.begin(), rules.orders.end(), [&](const auto& rule) {
    return glob_matches_reference(rule.from, from) && glob_matches_reference(rule.to, to);
  });
}

bool function_rule_matches(const reference_suppressions& rules, const std::string& function) {
  return !function.empty() &&
         std::any_of(rules.functions.begin(), rules.functions.end(), [&](const auto& pattern) {
           return glob_matches_reference(pattern, function);
         });
}

void check_patterns(const reference_suppressions& rules, const report_names& names) {
  std::vector<const std::string*> patterns;
  for (const auto& rule : rules.orders) {
    patterns.push_back(&rule.from);
    patterns.push_back(&rule.to);
  }
  for (const std::string& pattern : rules.functions) patterns.push_back(&pattern);
  for (const std::string* pattern : patterns) {
    for (const std::string* text :
         {&names.holding, &names.between, &names.acquiring, &names.function}) {
      if (lockdep::matches_pattern(*pattern, *text) != glob_matches_reference(*pattern, *text)) {
        fail(fmt::format("matches_pattern('{}', '{}') is {}", *pattern, *text,
                         !glob_matches_reference(*pattern, *text)));
      }
    }
  }
}

void expect(bool got, bool wanted, const char* what) {
  if (got != wanted) fail(fmt::format("{} is {}, the documented rules say {}", what, got, wanted));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t end = input.find('\0');
  std::string_view text = input.substr(0, end);
  report_names names =
      names_after(end == std::string_view::npos ? std::string_view{} : input.substr(end + 1));

  std::vector<lockdep::suppression_error> errors;
  lockdep::suppressions parsed = lockdep::suppressions::parse(text, &errors);
  reference_suppressions wanted = lockdep_fuzz::parse_suppressions_reference(text);

  std::vector<std::size_t> lines;
  for (const lockdep::suppression_error& error : errors) {
    if (error.message.empty()) fail("a suppression error without a message");
    lines.push_back(error.line);
  }
  if (lines != wanted.error_lines) {
    fail(fmt::format("errors on lines {} where the reference has {}", fmt::join(lines, ","),
                     fmt::join(wanted.error_lines, ",")));
  }
  bool has_rules = !wanted.orders.empty() || !wanted.functions.empty();
  expect(parsed.empty(), !has_rules, "empty()");
  expect(parsed.has_function_rules(), !wanted.functions.empty(), "has_function_rules()");
  // Errors are counted without a list too.
  expect(lockdep::suppressions::parse(text, nullptr).empty(), !has_rules, "empty() (no list)");

  check_patterns(wanted, names);

  report recursive = recursive_report(names);
  expect(parsed.suppresses_by_order(recursive),
         order_rule_matches(wanted, names.holding, names.acquiring),
         "suppresses_by_order(recursive)");
  expect(parsed.suppresses_by_function(recursive), function_rule_matches(wanted, names.function),
         "suppresses_by_function(recursive)");

  report circular = circular_report(names);
  bool order_wanted = order_rule_matches(wanted, names.acquiring, names.between) ||
                      order_rule_matches(wanted, names.between, names.holding) ||
                      order_rule_matches(wanted, names.holding, names.acquiring);
  expect(parsed.suppresses_by_order(circular), order_wanted, "suppresses_by_order(circular)");
  expect(parsed.suppresses_by_function(circular), function_rule_matches(wanted, names.function),
         "suppresses_by_function(circular)");

  // Order rules speak of dependencies: a bad unlock has none. A full table is never suppressed.
  report unbalanced = recursive;
  unbalanced.kind = report_kind::bad_unlock_balance;
  expect(parsed.suppresses_by_order(unbalanced), false, "suppresses_by_order(bad unlock)");
  report full = circular;
  full.kind = report_kind::capacity_exhausted;
  expect(lockdep::suppressions::applies_to(full), false, "applies_to(capacity_exhausted)");
  expect(parsed.suppresses_by_order(full), false, "suppresses_by_order(capacity_exhausted)");
  expect(parsed.suppresses_by_function(full), false, "suppresses_by_function(capacity_exhausted)");
  return 0;
}

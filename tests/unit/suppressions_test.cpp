// Suppressions (lockdep/suppressions.hpp): the file format and its errors, pattern matching,
// and, through the validator, that a suppressed report is counted but not issued and leaves
// validation on, while reports the rules do not match still come out.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "lockdep/lockdep.hpp"
#include "lockdep/suppressions.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

using lockdep::matches_pattern;
using lockdep::suppression_error;
using lockdep::suppressions;
using lockdep::testing::report_capture;

namespace {

// A suppressions file for one test, removed when it goes out of scope.
class suppressions_file {
 public:
  explicit suppressions_file(const std::string& text)
      : path_("/tmp/lockdep_suppressions_test_" + std::to_string(getpid()) + "_" +
              std::to_string(counter_++)) {
    std::ofstream(path_) << text;
  }
  ~suppressions_file() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

lockdep::options with_suppressions(const std::string& path) {
  lockdep::options configured = lockdep::current_options();
  configured.suppressions = path;
  return configured;
}

[[gnu::noinline]] void known_inversion_in_legacy_cache(lockdep::mutex& a, lockdep::mutex& b) {
  lockdep_test::lock_unlock_2(b, a);
}

}  // namespace

TEST_CASE("suppression patterns match whole names, * any run", "[suppressions]") {
  CHECK(matches_pattern("pcpu_alloc_mutex", "pcpu_alloc_mutex"));
  CHECK_FALSE(matches_pattern("pcpu_alloc", "pcpu_alloc_mutex"));
  CHECK(matches_pattern("pcpu_*", "pcpu_alloc_mutex"));
  CHECK(matches_pattern("*mutex", "pcpu_alloc_mutex"));
  CHECK(matches_pattern("*alloc*", "pcpu_alloc_mutex"));
  CHECK(matches_pattern("*", ""));
  CHECK_FALSE(matches_pattern("a", ""));
  CHECK(matches_pattern("a*b*c", "aXbYbZc"));
  CHECK_FALSE(matches_pattern("a*b*c", "aXbYbZ"));
  CHECK(matches_pattern("&type->s_umount_key#*", "&type->s_umount_key#3/1"));
  // Backtracking stays cheap on a pattern built to be slow.
  CHECK_FALSE(matches_pattern("*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST_CASE("the suppressions file format, with a line number for each bad line", "[suppressions]") {
  std::vector<suppression_error> errors;
  suppressions rules = suppressions::parse(
      "# known and accepted\n"
      "\n"
      "order: &fs_info->commit_root_sem -> pcpu_alloc_mutex\n"
      "   function:   legacy_cache_*   \n"
      "bogus line\n"
      "kind: circular\n"
      "order: a b\n"
      "order: -> b\n"
      "order: a ->\n"
      "function:\n"
      "order:x->y",
      &errors);
  REQUIRE(errors.size() == 6);
  CHECK(errors[0].line == 5);
  CHECK(errors[0].message == "'bogus line' is not 'order: A -> B' or 'function: F'");
  CHECK(errors[1].line == 6);
  CHECK(errors[1].message == "unknown rule type 'kind' (expected 'order' or 'function')");
  CHECK(errors[2].line == 7);
  CHECK(errors[2].message == "'order: a b' is not 'order: A -> B'");
  CHECK(errors[3].line == 8);
  CHECK(errors[4].line == 9);
  CHECK(errors[5].line == 10);
  CHECK(errors[5].message == "'function:' needs a function name");
  CHECK_FALSE(rules.empty());
  CHECK(rules.has_function_rules());
  CHECK(suppressions::parse("", nullptr).empty());
  CHECK(suppressions::parse("# only a comment\n\n", nullptr).empty());
  CHECK(suppressions::parse("\n\n\n", nullptr).empty());
}

TEST_CASE("an order rule suppresses the report and leaves validation on", "[suppressions]") {
  suppressions_file file("order: supp_a -> supp_b\n");
  report_capture capture(with_suppressions(file.path()));
  lockdep::mutex a{"supp_a"}, b{"supp_b"}, c{"supp_c"};
  lockdep_test::lock_unlock_2(a, b);
  lockdep_test::lock_unlock_2(b, a);  // closes a -> b -> a: the rule names a -> b
  CHECK(capture.count() == 0);
  lockdep::validator_state state = lockdep::snapshot();
  CHECK(state.stats.suppressed_reports == 1);
  CHECK(state.stats.reports == 0);
  CHECK(state.stats.debug_locks);
  CHECK(state.reported_cycles.empty());
  CHECK(lockdep::proc_lockdep_stats(state).find(" suppressed reports:                      1\n") !=
        std::string::npos);

  lockdep_test::lock_unlock_2(a, c);
  lockdep_test::lock_unlock_2(c, a);  // not covered by the rule
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == lockdep_test::names({"supp_a", "supp_c"}));
}

TEST_CASE("an order rule matches any dependency of a longer cycle, or the refused one",
          "[suppressions]") {
  for (const char* rule :
       {"order: long_b -> long_c", "order: long_c -> long_a", "order: long_a -> long_*"}) {
    suppressions_file file(rule);
    report_capture capture(with_suppressions(file.path()));
    lockdep::mutex a{"long_a"}, b{"long_b"}, c{"long_c"};
    lockdep_test::lock_unlock_2(a, b);
    lockdep_test::lock_unlock_2(b, c);
    lockdep_test::lock_unlock_2(c, a);  // refused: c -> a
    INFO(rule);
    CHECK(capture.count() == 0);
    CHECK(lockdep::snapshot().stats.suppressed_reports == 1);
  }
  // The same cycle with a rule naming a dependency it does not have: reported.
  suppressions_file unrelated("order: long_b -> long_a");
  report_capture capture(with_suppressions(unrelated.path()));
  lockdep::mutex a{"long_a"}, b{"long_b"}, c{"long_c"};
  lockdep_test::lock_unlock_2(a, b);
  lockdep_test::lock_unlock_2(b, c);
  lockdep_test::lock_unlock_2(c, a);
  CHECK(capture.count() == 1);
}

TEST_CASE("order: A -> A suppresses recursive locking of A", "[suppressions]") {
  suppressions_file file("order: twice -> twice");
  report_capture capture(with_suppressions(file.path()));
  static lockdep::lock_class_key key{"twice"};
  lockdep::mutex first{key}, second{key};
  lockdep_test::lock_unlock_2(first, second);
  CHECK(capture.count() == 0);
  CHECK(lockdep::snapshot().stats.suppressed_reports == 1);
}

TEST_CASE("a function rule suppresses a report with that function in a trace", "[suppressions]") {
  suppressions_file file("function: *known_inversion_in_legacy_*\n");
  report_capture capture(with_suppressions(file.path()));
  lockdep::mutex a{"func_a"}, b{"func_b"}, c{"func_c"};
  lockdep_test::lock_unlock_2(a, b);
  known_inversion_in_legacy_cache(a, b);
  CHECK(capture.count() == 0);
  CHECK(lockdep::snapshot().stats.suppressed_reports == 1);
  CHECK(lockdep::validation_enabled());
  CHECK(lockdep::report_count() == 0);

  // Elsewhere the same kind of inversion is reported, and then turns the validator off.
  lockdep_test::lock_unlock_2(a, c);
  lockdep_test::lock_unlock_2(c, a);
  CHECK(capture.count() == 1);
  CHECK_FALSE(lockdep::validation_enabled());
}

TEST_CASE("a bad or missing suppressions file does not stop the validator", "[suppressions]") {
  SECTION("missing") {
    report_capture capture(with_suppressions("/nonexistent/lockdep.supp"));
    lockdep::mutex a{"missing_a"}, b{"missing_b"};
    lockdep_test::lock_unlock_2(a, b);
    lockdep_test::lock_unlock_2(b, a);
    CHECK(capture.count() == 1);
  }
  SECTION("malformed lines around a good one") {
    suppressions_file file("garbage\norder: bad_a -> bad_b\nfunction:\n");
    report_capture capture(with_suppressions(file.path()));
    lockdep::mutex a{"bad_a"}, b{"bad_b"};
    lockdep_test::lock_unlock_2(a, b);
    lockdep_test::lock_unlock_2(b, a);
    CHECK(capture.count() == 0);
    CHECK(lockdep::snapshot().stats.suppressed_reports == 1);
  }
}

TEST_CASE("full tables are never suppressed", "[suppressions]") {
  suppressions_file file("order: * -> *\nfunction: *\n");
  lockdep::options configured = with_suppressions(file.path());
  configured.max_classes = 2;
  report_capture capture(configured);
  lockdep::mutex a{"full_a"}, b{"full_b"}, c{"full_c"};
  a.lock();
  b.lock();
  c.lock();
  c.unlock();
  b.unlock();
  a.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == lockdep::report_kind::capacity_exhausted);
}

// Randomized differential test: random lock/unlock programs over a handful of classes, replayed
// both on the validator and on a brute-force oracle that decides from the observed orders
// whether (and at which operation) lockdep must report.
//
// A program is a few single-thread episodes of lock_acquire/lock_release on pseudo-locks (one
// lock_map, hence one class, per lock); nothing blocks. The oracle writes the kernel's rules out
// naively: it records the dependencies the kernel records (held --> new, with its read/write
// kind), takes the locks above an out-of-order release again as the kernel does, and whenever
// the set of dependencies grows it enumerates every simple cycle of the whole graph looking for
// a "strong" one (lockdep-design.rst, recursive read locks). With default options the validator
// stops after its first report, so the comparison is: the validator reports at exactly the
// operation where the oracle first sees a forbidden same-class re-acquisition or a strong cycle,
// with the same kind and classes and a cycle made of recorded dependencies, and never otherwise.
//
// Why that is exactly what the validator must do, although it searches only when it adds a
// dependency and skips chains of held classes it has validated before:
// - Before the first report the graph has no strong cycle (each addition was checked), so a new
//   one must use the dependency just added: what the search from the new lock back to the held
//   one looks for. That search may follow a path through a class twice; a strong closed walk
//   always contains a strong simple cycle, so simple cycles suffice.
// - A cached chain has the same classes with the same read types, so with neither trylocks nor
//   unchecked locks it would add the same dependencies and meet the same same-class conflicts
//   as when it was validated.
// - The cache key ignores which held locks were trylocks (the kernel's hlock_id() has no trylock
//   bit), so a repeated chain may skip a dependency the oracle records. For exclusive locks it
//   never matters: every lock held below an ordinary lock reaches it in the graph, so the
//   skipped dependency is implied by a path. The exclusive campaigns check the same argument
//   for the kernel's shortcut of adding dependencies from the top held lock only, by also
//   judging with an oracle that records one from every held lock.
// - With readers and trylocks together the cache does matter (the implied path may go through a
//   recursive reader and not be strong), and so it does for unchecked locks (acquire_request
//   .check = false, also absent from the key) even when exclusive: see the "a cached chain
//   hides ..." cases. These are the kernel's own false negatives, so the campaigns judged by
//   the plain oracle keep each class always or never trylocked (with readers) or unchecked,
//   which makes the chain key determine those flags again; the campaign that draws them per
//   acquisition is judged by an oracle that also remembers validated chains.
// - The kernel's search marks a class visited once per search and can miss a strong path that
//   reaches a class after a weak one did; the port's search is exact, as the oracle is (see
//   "a strong path is found ...").
//
// On a disagreement the failure message lists the shortest disagreeing program, operation by
// operation, with its seed.

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lockdep/lock_map.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report.hpp"
#include "lockdep/testing.hpp"
#include "lockdep/validator.hpp"

#include "lock_order_oracle.hpp"
#include "random_lock_program.hpp"

using namespace lockdep_differential;

namespace {
struct lock_set {
  lockdep::lock_map maps[max_classes] = {
      lockdep::lock_map{class_names[0]}, lockdep::lock_map{class_names[1]},
      lockdep::lock_map{class_names[2]}, lockdep::lock_map{class_names[3]},
      lockdep::lock_map{class_names[4]}, lockdep::lock_map{class_names[5]},
      lockdep::lock_map{class_names[6]}, lockdep::lock_map{class_names[7]}};
};

// Out of line so that LOCKDEP_RET_IP is a real call site in the replay loop.
[[gnu::noinline]] void perform(const op& step, lockdep::lock_map& map) {
  const void* ip = LOCKDEP_RET_IP;
  if (step.kind == op_kind::release) {
    lockdep::lock_release(map, ip);
    return;
  }
  lockdep::acquire_request request;
  request.access = step.access;
  request.trylock = step.trylock;
  request.check = step.checked;
  lockdep::lock_acquire(map, request, ip);
}

struct validator_run {
  std::optional<std::size_t> first_report_op;
  std::size_t first_report = 0;  // its index among the capture's reports
  std::size_t reports = 0;
};

// Small tables: the validator is reset before every program and a full-size reset is slow.
lockdep::options small_tables() {
  lockdep::options configured;
  configured.max_classes = 64;
  configured.max_dependencies = 1024;
  configured.max_chains = 4096;
  configured.max_chain_hlocks = 32768;
  configured.max_stack_entries = 1 << 16;
  configured.stack_depth = 8;
  return configured;
}

validator_run replay_on_validator(const program& replayed, lock_set& locks,
                                  const lockdep::testing::report_capture& capture) {
  lockdep::testing::reset(small_tables());
  validator_run run;
  std::size_t before_program = capture.count();
  for (std::size_t i = 0; i < replayed.ops.size(); ++i) {
    std::size_t before = capture.count();
    perform(replayed.ops[i], locks.maps[replayed.ops[i].lock]);
    if (capture.count() > before && !run.first_report_op) {
      run.first_report_op = i;
      run.first_report = before;
    }
  }
  run.reports = capture.count() - before_program;
  return run;
}

std::string report_text(const lockdep::report& issued) {
  std::string text = std::string(lockdep::to_string(issued.kind)) + " acquiring " +
                     issued.acquiring.class_name + " holding " + issued.holding.class_name;
  if (issued.kind == report_kind::circular_dependency) {
    text += ", cycle:";
    for (const std::string& name : issued.cycle()) text += " " + name;
  }
  return text;
}

std::optional<unsigned> class_named(const std::string& name) {
  for (unsigned lock = 0; lock < max_classes; ++lock) {
    if (name == class_names[lock]) return lock;
  }
  return std::nullopt;
}

// The reported cycle must be made of recorded dependencies and be strong when closed by the
// new one. Returns what is wrong with it.
std::optional<std::string> check_reported_cycle(const lockdep::report& issued,
                                                const finding& expected) {
  std::vector<std::string> names = issued.cycle();
  if (names.empty() || names.front() != class_names[expected.acquiring] ||
      names.back() != class_names[expected.holding]) {
    return "the cycle does not run from the acquired class to the held one";
  }
  std::vector<kind_set> edges;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    std::optional<unsigned> from = class_named(names[i]);
    std::optional<unsigned> to = class_named(names[i + 1]);
    if (!from || !to || expected.graph[*from][*to] == 0) {
      return "the cycle step " + names[i] + " -> " + names[i + 1] + " was never recorded";
    }
    edges.push_back(expected.graph[*from][*to]);
  }
  edges.push_back(bit_of(expected.closing));
  if (!can_be_strong(edges)) return std::string("the reported cycle is not strong");
  return std::nullopt;
}

std::optional<std::string> disagreement(const std::optional<finding>& expected,
                                        const validator_run& run,
                                        const std::vector<lockdep::report>& reports) {
  if (!expected && !run.first_report_op) return std::nullopt;
  if (!run.first_report_op) {
    return "the oracle expects " + finding_text(*expected) + "; the validator reported nothing";
  }
  const lockdep::report& issued = reports.at(run.first_report);
  std::string reported = "the validator reported at #" + std::to_string(*run.first_report_op) +
                         ": " + report_text(issued);
  if (!expected) return reported + "; the oracle finds no problem";
  std::string both = "the oracle expects " + finding_text(*expected) + "; " + reported;
  if (*run.first_report_op != expected->op_index || issued.kind != expected->kind ||
      issued.acquiring.class_name != class_names[expected->acquiring] ||
      issued.holding.class_name != class_names[expected->holding]) {
    return both;
  }
  if (run.reports != 1) {
    return both + "; then " + std::to_string(run.reports - 1) +
           " more reports although validation should be off";
  }
  if (issued.kind == report_kind::circular_dependency) {
    if (std::optional<std::string> wrong = check_reported_cycle(issued, *expected)) {
      return both + "; " + *wrong;
    }
  }
  return std::nullopt;
}

struct campaign_result {
  std::size_t programs = 0;
  std::size_t with_problem = 0;
  std::size_t with_weak_cycle = 0;
  std::size_t disagreements = 0;
  std::string shortest_failure;  // the shortest disagreeing program and what went wrong
};

struct judged_program {
  program replayed;
  std::vector<std::optional<finding>> expected;  // one per oracle
  validator_run run;
};

// The five random campaigns below share LOCKDEP_DIFFERENTIAL_PROGRAMS programs (15,000 when
// unset); the long run (README, "Tests") sets 100,000.
constexpr std::size_t random_campaigns = 5;
std::size_t programs_per_campaign() {
  std::size_t total = 15000;
  if (const char* configured = std::getenv("LOCKDEP_DIFFERENTIAL_PROGRAMS")) {
    std::size_t parsed = 0;
    auto [end, error] = std::from_chars(configured, configured + std::strlen(configured), parsed);
    if (error == std::errc{} && *end == '\0' && parsed >= random_campaigns) total = parsed;
  }
  return total / random_campaigns;
}

campaign_result run_campaign(const variant& shape, std::uint64_t first_seed, std::size_t programs) {
  lockdep::testing::report_capture capture(small_tables());
  lock_set locks;
  std::vector<judged_program> judged;
  campaign_result result;
  result.programs = programs;
  for (std::size_t i = 0; i < programs; ++i) {
    judged_program current;
    current.replayed = program_generator(shape, first_seed + i).generate();
    for (const oracle_rules& rules : shape.oracles) {
      oracle judge(current.replayed.classes, rules);
      current.expected.push_back(judge.run(current.replayed));
      if (&rules != &shape.oracles.front()) continue;
      if (judge.saw_weak_cycle()) ++result.with_weak_cycle;
      if (current.expected.back()) ++result.with_problem;
    }
    current.run = replay_on_validator(current.replayed, locks, capture);
    judged.push_back(std::move(current));
  }
  // Fetched once: each call copies every report captured so far.
  std::vector<lockdep::report> reports = capture.reports();
  std::size_t shortest = SIZE_MAX;
  for (const judged_program& current : judged) {
    for (std::size_t w = 0; w < shape.oracles.size(); ++w) {
      std::optional<std::string> wrong = disagreement(current.expected[w], current.run, reports);
      if (!wrong) continue;
      ++result.disagreements;
      if (current.replayed.ops.size() < shortest) {
        shortest = current.replayed.ops.size();
        result.shortest_failure = std::string("(") + shape.oracles[w].name + ") " + *wrong + "\n" +
                                  listing(current.replayed);
      }
    }
  }
  return result;
}

void check_campaign(const campaign_result& result) {
  INFO(result.disagreements << " disagreements over " << result.programs
                            << " programs; the shortest program:\n"
                            << result.shortest_failure);
  CHECK(result.disagreements == 0);
  // The generator must exercise both verdicts, or agreeing proves little.
  CHECK(result.with_problem >= result.programs / 10);
  CHECK(result.programs - result.with_problem >= result.programs / 5);
}

// Builds a hand-written program from "+L0", "+L1:r" (shared), "+L1:R" (shared_recursive),
// "+L2:try", "+L3:nocheck", "-L0" (release); a blank entry starts a new episode.
program written(unsigned classes, std::initializer_list<std::string> steps) {
  program built;
  built.classes = classes;
  unsigned episode = 1;
  for (const std::string& text : steps) {
    if (text.empty()) {
      ++episode;
      continue;
    }
    op step;
    step.kind = text[0] == '+' ? op_kind::acquire : op_kind::release;
    step.lock = static_cast<unsigned>(text[2] - '0');
    step.episode = episode;
    std::string flags = text.substr(3);
    if (flags.find(":r") != std::string::npos) step.access = lock_access::shared;
    if (flags.find(":R") != std::string::npos) step.access = lock_access::shared_recursive;
    step.trylock = flags.find(":try") != std::string::npos;
    step.checked = flags.find(":nocheck") == std::string::npos;
    built.ops.push_back(step);
  }
  return built;
}

// Checks one hand-written program against an oracle; returns the oracle's verdict.
std::optional<finding> check_agreement(const program& replayed,
                                       const oracle_rules& rules = kernel_rules) {
  lockdep::testing::report_capture capture(small_tables());
  lock_set locks;
  std::optional<finding> expected = oracle(replayed.classes, rules).run(replayed);
  validator_run run = replay_on_validator(replayed, locks, capture);
  std::optional<std::string> wrong = disagreement(expected, run, capture.reports());
  INFO((wrong ? *wrong : std::string("agreement")) << "\n" << listing(replayed));
  CHECK_FALSE(wrong);
  return expected;
}

}  // namespace

TEST_CASE("differential: exclusive locks: report iff a cycle or a re-taken class",
          "[differential]") {
  variant shape;
  shape.oracles = {kernel_rules, naive_rules};
  check_campaign(run_campaign(shape, 1000, programs_per_campaign()));
}

TEST_CASE("differential: readers: report iff a strong cycle or a forbidden re-take",
          "[differential]") {
  variant shape;
  shape.readers = true;
  shape.reacquire = 0.12;
  campaign_result result = run_campaign(shape, 50000, programs_per_campaign());
  check_campaign(result);
  // Read-read cycles that must not be reported did occur.
  CHECK(result.with_weak_cycle >= result.programs / 50);
}

TEST_CASE("differential: exclusive trylocks and unchecked classes record no dependency into them",
          "[differential]") {
  variant shape;
  shape.trylocks = flag_policy::per_acquisition;
  shape.unchecked = flag_policy::per_class;
  shape.oracles = {kernel_rules, naive_rules};
  check_campaign(run_campaign(shape, 100000, programs_per_campaign()));
}

TEST_CASE("differential: readers with classes always or never trylocked or unchecked",
          "[differential]") {
  variant shape;
  shape.readers = true;
  shape.trylocks = flag_policy::per_class;
  shape.unchecked = flag_policy::per_class;
  shape.reacquire = 0.12;
  campaign_result result = run_campaign(shape, 150000, programs_per_campaign());
  check_campaign(result);
  CHECK(result.with_weak_cycle >= result.programs / 50);
}

TEST_CASE("differential: readers with trylocks and unchecked locks judged with the chain cache",
          "[differential]") {
  // Repeated episodes draw their flags again, so the validator meets chains it validated with
  // other trylocks or unchecked locks: it must skip them exactly as an oracle that remembers
  // chains does.
  variant shape;
  shape.readers = true;
  shape.trylocks = flag_policy::per_acquisition;
  shape.unchecked = flag_policy::per_acquisition;
  shape.reacquire = 0.12;
  shape.oracles = {cached_rules};
  campaign_result result = run_campaign(shape, 200000, programs_per_campaign());
  check_campaign(result);
  CHECK(result.with_weak_cycle >= result.programs / 50);
}

// Rare in random programs: releasing a lock out of order takes the ones above it again on top
// of what remains, which records dependencies that can close a strong cycle.
TEST_CASE("differential: an out-of-order release closes a cycle through a recursive reader",
          "[differential]") {
  // L0 -(ER)-> L1 -(SN)-> L2 is not strong, so nothing is reported until releasing L1 puts
  // L2 directly on L0: L0 -(EN)-> L2 -(EN)-> L0.
  program replayed =
      written(3, {"+L2", "+L0", "-L0", "-L2", "", "+L0", "+L1:R", "+L2", "-L1", "-L2", "-L0"});
  std::optional<finding> expected = check_agreement(replayed);
  REQUIRE(expected);
  CHECK(expected->op_index == 7);
  CHECK(expected->kind == report_kind::circular_dependency);
}

// L3 --> L0 closes L0 -(EN)-> L2 -(EN)-> L1 -(SN)-> L3 -(EN)-> L0, a strong cycle. The
// search from L0 first reaches L1 directly, by L0 -(ER)-> L1, after which L1 -(SN)-> L3 is not
// strong; the kernel, marking L1 visited there, would then skip it when L2 reaches it by a
// strong edge, and miss the deadlock. The port visits a class again when a strong path reaches
// it after a weak one did.
TEST_CASE("differential: a strong path is found to a class first reached by a weak one",
          "[differential]") {
  program replayed = written(
      4, {"+L0", "+L1:R", "-L1", "-L0",   "",    "+L0", "+L2", "-L2", "-L0", "",    "+L2", "+L1",
          "-L1", "-L2",   "",    "+L1:r", "+L3", "-L3", "-L1", "",    "+L3", "+L0", "-L0", "-L3"});
  std::optional<finding> expected = check_agreement(replayed);
  REQUIRE(expected);
  CHECK(expected->op_index == 17);
  CHECK(expected->kind == report_kind::circular_dependency);
}

TEST_CASE("differential: read-read cycles and recursive re-reads are not reported",
          "[differential]") {
  CHECK_FALSE(check_agreement(
      written(2, {"+L0:R", "+L1:R", "-L1", "-L0", "", "+L1:R", "+L0:R", "-L0", "-L1"})));
  CHECK_FALSE(check_agreement(written(2, {"+L0:r", "+L1:R", "+L0:R", "-L0", "-L1", "-L0"})));
  // A non-recursive reader waits for a queued writer: this one is a deadlock.
  CHECK(check_agreement(
      written(2, {"+L0:r", "+L1", "-L1", "-L0", "", "+L1:r", "+L0", "-L0", "-L1"})));
}

// Known kernel false negatives, kept by the port on purpose. The oracle records dependencies
// the kernel's way in the random campaigns; these programs show what that way misses.

// The chain cache is keyed by classes and read types only, as the kernel's (hlock_id() has no
// trylock bit). After L0, L1 (recursive read), L2 was validated, the same chain with L1
// trylocked is a cache hit, so L0 --> L2 is never recorded; the remaining path
// L0 -(ER)-> L1 -(SN)-> L2 enters L1 as a recursive reader and leaves it from a shared hold,
// which is not strong. L2 then L0 is not reported although it deadlocks with L0 then L2. This
// is why the mixed campaign keeps each class always or never trylocked: then the chain key
// determines the trylocks again.
TEST_CASE("differential: a cached chain hides the dependency a trylocked reader adds",
          "[differential]") {
  program replayed = written(3, {"+L0", "+L1:R", "+L2", "-L2", "-L1", "-L0", "", "+L0", "+L1:R:try",
                                 "+L2", "-L2", "-L1", "-L0", "", "+L2", "+L0", "-L0", "-L2"});
  INFO(listing(replayed));
  std::optional<finding> expected = oracle(3, kernel_rules).run(replayed);
  REQUIRE(expected);
  CHECK(expected->op_index == 13);
  CHECK(expected->kind == report_kind::circular_dependency);
  CHECK_FALSE(check_agreement(replayed, cached_rules));
}

// The same with a lock that was unchecked when the chain was validated: L0 --> L1 is never
// recorded, even for exclusive locks, and L1 then L0 is not reported.
TEST_CASE("differential: a cached chain hides the dependency from a lock unchecked before",
          "[differential]") {
  program replayed = written(2, {"+L0:nocheck", "+L1", "-L1", "-L0", "", "+L0", "+L1", "-L1", "-L0",
                                 "", "+L1", "+L0", "-L0", "-L1"});
  INFO(listing(replayed));
  std::optional<finding> expected = oracle(2, kernel_rules).run(replayed);
  REQUIRE(expected);
  CHECK(expected->op_index == 9);
  CHECK_FALSE(check_agreement(replayed, cached_rules));
}

// check_prevs_add() records a dependency from the top held lock only (below it, from trylocks
// down to the first ordinary lock), counting on the top lock to reach the ones below. Through a
// recursive reader that path is not strong: L0, L1 (recursive read), L2 against L2, L0
// deadlocks, and is not reported, by the kernel or by the port.
TEST_CASE("differential: dependencies through a recursive reader are not transitive",
          "[differential]") {
  program replayed =
      written(3, {"+L0", "+L1:R", "+L2", "-L2", "-L1", "-L0", "", "+L2", "+L0", "-L0", "-L2"});
  INFO(listing(replayed));
  std::optional<finding> naive = oracle(3, naive_rules).run(replayed);
  REQUIRE(naive);
  CHECK(naive->op_index == 7);
  CHECK_FALSE(check_agreement(replayed));
}

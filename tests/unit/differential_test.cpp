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
#include <cstddef>
#include <cstdint>
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

namespace {

using lockdep::lock_access;
using lockdep::report_kind;

constexpr unsigned max_classes = 8;
constexpr const char* class_names[max_classes] = {"L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7"};

enum class op_kind { acquire, release };

struct op {
  op_kind kind = op_kind::acquire;
  unsigned lock = 0;
  lock_access access = lock_access::exclusive;
  bool trylock = false;
  bool checked = true;
  unsigned episode = 0;
};

struct program {
  std::uint64_t seed = 0;
  unsigned classes = 0;
  std::vector<op> ops;
};

const char* access_name(lock_access access) {
  switch (access) {
    case lock_access::exclusive:
      return "exclusive";
    case lock_access::shared:
      return "shared";
    case lock_access::shared_recursive:
      return "shared_recursive";
  }
  return "?";
}

std::string op_text(const op& step) {
  if (step.kind == op_kind::release) return std::string("release ") + class_names[step.lock];
  std::string text =
      std::string("acquire ") + class_names[step.lock] + " " + access_name(step.access);
  if (step.trylock) text += " trylock";
  if (!step.checked) text += " unchecked";
  return text;
}

std::string listing(const program& replayed) {
  std::ostringstream out;
  out << "program (seed " << replayed.seed << ", " << replayed.classes << " classes, "
      << replayed.ops.size() << " operations):\n";
  for (std::size_t i = 0; i < replayed.ops.size(); ++i) {
    const op& step = replayed.ops[i];
    if (i == 0 || replayed.ops[i - 1].episode != step.episode) {
      out << "  episode " << step.episode << ":\n";
    }
    out << "    #" << i << " " << op_text(step) << "\n";
  }
  return out.str();
}

// Which held locks a new dependency starts from.
enum class dependency_walk {
  // The kernel's check_prevs_add(): from the top down to the first lock that is neither a
  // trylock nor unchecked (unchecked ones are skipped). A lower lock already reaches that one,
  // but not always by a strong path.
  kernel,
  // Every held checked lock: the plain meaning of "B was taken while A was held". For
  // exclusive locks it finds the same cycles at the same operations as the kernel's walk.
  every_held,
};

struct oracle_rules {
  const char* name;
  dependency_walk walk;
  bool chain_cache;  // also skip chains validated before, as the kernel does
};

constexpr oracle_rules kernel_rules{"kernel walk", dependency_walk::kernel, false};
constexpr oracle_rules naive_rules{"every-held walk", dependency_walk::every_held, false};
constexpr oracle_rules cached_rules{"kernel walk and chain cache", dependency_walk::kernel, true};

// How an acquisition flag (trylock, unchecked) is drawn.
enum class flag_policy {
  never,
  per_class,        // each class is always or never acquired that way
  per_acquisition,  // drawn for each acquisition
};

struct variant {
  bool readers = false;  // acquisitions may be shared or shared_recursive
  flag_policy trylocks = flag_policy::never;
  flag_policy unchecked = flag_policy::never;  // acquire_request.check = false
  double reacquire = 0.015;                    // chance of taking a class that is already held
  // The oracles the validator must agree with; statistics come from the first.
  std::vector<oracle_rules> oracles = {kernel_rules};
};

class program_generator {
 public:
  program_generator(const variant& shape, std::uint64_t seed) : shape_(shape), random_(seed) {
    generated_.seed = seed;
  }

  program generate() {
    generated_.classes = uniform(4, max_classes);
    order_.resize(generated_.classes);
    std::iota(order_.begin(), order_.end(), 0u);
    std::shuffle(order_.begin(), order_.end(), random_);
    // From programs that respect one global order (no report unless a class is re-taken) to
    // mostly random ones (a report soon).
    static constexpr double disorders[] = {0.0, 0.02, 0.08, 0.25};
    disorder_ = disorders[uniform(0, 3)];
    for (unsigned lock = 0; lock < generated_.classes; ++lock) {
      trylocked_class_[lock] = chance(trylock_chance);
      unchecked_class_[lock] = chance(unchecked_chance);
    }
    unsigned episodes = uniform(1, 5);
    for (unsigned episode = 1; episode <= episodes; ++episode) {
      if (episode > 1 && chance(0.25)) {
        repeat_episode(uniform(1, episode - 1), episode);
      } else {
        generate_episode(episode);
      }
    }
    return generated_;
  }

 private:
  unsigned uniform(unsigned low, unsigned high) {
    return std::uniform_int_distribution<unsigned>(low, high)(random_);
  }
  bool chance(double probability) { return std::bernoulli_distribution(probability)(random_); }

  void generate_episode(unsigned episode) {
    episode_ = episode;
    unsigned acquisitions = uniform(1, 7);
    for (unsigned taken = 0; taken < acquisitions;) {
      if (!held_.empty() && chance(0.3)) {
        release_one();
        continue;
      }
      std::optional<unsigned> lock = pick_lock();
      if (!lock) {
        release_one();
        continue;
      }
      acquire(*lock);
      ++taken;
    }
    while (!held_.empty()) release_one();
  }

  // The same locks in the same order again, which the validator finds in its chain cache;
  // the flags are drawn again unless they belong to the class.
  void repeat_episode(unsigned earlier, unsigned episode) {
    std::vector<op> repeated;
    for (const op& step : generated_.ops) {
      if (step.episode != earlier) continue;
      op again = step;
      again.episode = episode;
      if (again.kind == op_kind::acquire) draw_flags(again);
      repeated.push_back(again);
    }
    generated_.ops.insert(generated_.ops.end(), repeated.begin(), repeated.end());
  }

  // A held class now and then; otherwise one above every held class in the program's order,
  // or, with the program's disorder, any class not held.
  std::optional<unsigned> pick_lock() {
    if (!held_.empty() && chance(shape_.reacquire)) return held_[uniform(0, held_.size() - 1)];
    std::vector<unsigned> candidates;
    bool any_order = chance(disorder_);
    for (unsigned lock = 0; lock < generated_.classes; ++lock) {
      if (is_held(lock)) continue;
      if (any_order || std::all_of(held_.begin(), held_.end(),
                                   [&](unsigned held) { return rank(held) < rank(lock); })) {
        candidates.push_back(lock);
      }
    }
    if (candidates.empty()) return std::nullopt;
    return candidates[uniform(0, candidates.size() - 1)];
  }

  void acquire(unsigned lock) {
    op step;
    step.lock = lock;
    step.episode = episode_;
    if (shape_.readers) step.access = pick_access(is_held(lock));
    draw_flags(step);
    generated_.ops.push_back(step);
    held_.push_back(lock);
  }

  void draw_flags(op& step) {
    step.trylock = draw(shape_.trylocks, trylocked_class_[step.lock], trylock_chance);
    step.checked = !draw(shape_.unchecked, unchecked_class_[step.lock], unchecked_chance);
  }
  bool draw(flag_policy policy, bool class_flag, double probability) {
    switch (policy) {
      case flag_policy::never:
        return false;
      case flag_policy::per_class:
        return class_flag;
      case flag_policy::per_acquisition:
        return chance(probability);
    }
    return false;
  }

  lock_access pick_access(bool already_held) {
    // Re-taking a held class is only allowed as a recursive read: favour it.
    if (already_held && chance(0.7)) return lock_access::shared_recursive;
    switch (uniform(0, 9) / 4) {
      case 0:
        return lock_access::exclusive;
      case 1:
        return lock_access::shared;
      default:
        return lock_access::shared_recursive;
    }
  }

  // Mostly the most recent lock; sometimes another one (out of order).
  void release_one() {
    std::size_t index = held_.size() - 1;
    if (chance(0.3)) index = uniform(0, held_.size() - 1);
    op step;
    step.kind = op_kind::release;
    step.lock = held_[index];
    step.episode = episode_;
    generated_.ops.push_back(step);
    // Releasing a class releases its most recent acquisition, as the validator does.
    auto topmost = std::find(held_.rbegin(), held_.rend(), step.lock);
    held_.erase(std::next(topmost).base());
  }

  bool is_held(unsigned lock) const {
    return std::find(held_.begin(), held_.end(), lock) != held_.end();
  }
  unsigned rank(unsigned lock) const {
    return static_cast<unsigned>(std::find(order_.begin(), order_.end(), lock) - order_.begin());
  }

  variant shape_;
  std::mt19937_64 random_;
  program generated_;
  std::vector<unsigned> order_;
  double disorder_ = 0;
  static constexpr double trylock_chance = 0.3;
  static constexpr double unchecked_chance = 0.15;
  std::array<bool, max_classes> trylocked_class_{};
  std::array<bool, max_classes> unchecked_class_{};
  std::vector<unsigned> held_;
  unsigned episode_ = 0;
};

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

kind_set bit_of(dep_kind kind) {
  return static_cast<kind_set>(1u << (2 * kind.from_shared + kind.to_recursive));
}
dep_kind kind_of_bit(unsigned bit) {
  return {bit >= 2, bit % 2 == 1};
}

dep_kind dependency_kind(lock_access holder, lock_access acquirer) {
  return {holder != lock_access::exclusive, acquirer == lock_access::shared_recursive};
}

// A recursive reader waits only for a writer that holds the lock, so entering a class as one
// (xR) and leaving it from a shared hold (Sx) is a junction where nobody waits.
bool junction_blocks(dep_kind in, dep_kind out) {
  return !(in.to_recursive && out.from_shared);
}

// The kinds of `candidates` that may follow some kind in `before` on a strong path.
kind_set may_follow(kind_set before, kind_set candidates) {
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
bool can_be_strong(const std::vector<kind_set>& edges) {
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

std::string finding_text(const finding& found) {
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
  check_campaign(run_campaign(shape, 1000, 3000));
}

TEST_CASE("differential: readers: report iff a strong cycle or a forbidden re-take",
          "[differential]") {
  variant shape;
  shape.readers = true;
  shape.reacquire = 0.12;
  campaign_result result = run_campaign(shape, 50000, 3000);
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
  check_campaign(run_campaign(shape, 100000, 3000));
}

TEST_CASE("differential: readers with classes always or never trylocked or unchecked",
          "[differential]") {
  variant shape;
  shape.readers = true;
  shape.trylocks = flag_policy::per_class;
  shape.unchecked = flag_policy::per_class;
  shape.reacquire = 0.12;
  campaign_result result = run_campaign(shape, 150000, 3000);
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
  campaign_result result = run_campaign(shape, 200000, 3000);
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

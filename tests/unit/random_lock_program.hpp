// Random lock/unlock programs for the differential test: their operations, a listing for
// failure messages, the rules an oracle follows, and the generator.
#pragma once

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

namespace lockdep_differential {

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

inline const char* access_name(lock_access access) {
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

inline std::string op_text(const op& step) {
  if (step.kind == op_kind::release) return std::string("release ") + class_names[step.lock];
  std::string text =
      std::string("acquire ") + class_names[step.lock] + " " + access_name(step.access);
  if (step.trylock) text += " trylock";
  if (!step.checked) text += " unchecked";
  return text;
}

inline std::string listing(const program& replayed) {
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

}  // namespace lockdep_differential

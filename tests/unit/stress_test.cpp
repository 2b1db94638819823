// Multi-threaded stress on the instrumented lock types (issue 9): eight threads lock random
// subsets of 64 mutexes and rwsems in one global order for a bounded time (with out-of-order
// unlocks and out-of-order trylocks, which are both fine) and must get no report; a single
// inversion planted among them, after them or while they run, must get exactly one circular
// report naming its two classes, and everything must still finish.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <latch>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lockdep/mutex.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report.hpp"
#include "lockdep/shared_mutex.hpp"
#include "lockdep/state.hpp"
#include "lockdep/testing.hpp"
#include "lockdep/validator.hpp"

namespace {

constexpr std::size_t pool_size = 64;  // 48 mutexes and 16 rwsems
constexpr std::size_t worker_count = 8;
// Each worker locks until this long after the workers start: a bound on run time (under a
// sanitizer the workers simply do fewer iterations), not something the test measures.
constexpr std::chrono::milliseconds run_time{1000};
// Each lock is taken with this chance per iteration: about 4 locks a subset, so iterations are
// short and the number of new chains stays within roomy_chain_tables() for run_time.
constexpr double take_chance = 1.0 / 16;

// Every fourth lock, in the global order, is an rwsem.
bool is_rwsem(std::size_t position) {
  return position % 4 == 3;
}

// Position in the global order -> class name: "m00".."m47" and "rw00".."rw15". Built once and
// never freed: the locks keep pointers to the names.
const std::vector<std::string>& lock_names() {
  static const auto* names = [] {
    auto* built = new std::vector<std::string>;
    std::size_t mutexes = 0, rwsems = 0;
    char name[8];
    for (std::size_t position = 0; position < pool_size; ++position) {
      if (is_rwsem(position)) {
        std::snprintf(name, sizeof name, "rw%02zu", rwsems++);
      } else {
        std::snprintf(name, sizeof name, "m%02zu", mutexes++);
      }
      built->push_back(name);
    }
    return built;
  }();
  return *names;
}

const char* name_at(std::size_t position) {
  return lock_names()[position].c_str();
}

// The locks, addressed by their position in the global order; each has its own class.
class lock_pool {
 public:
  lock_pool() {
    for (std::size_t position = 0; position < pool_size; ++position) {
      if (is_rwsem(position)) {
        rwsems_.emplace_back(name_at(position));
      } else {
        mutexes_.emplace_back(name_at(position));
      }
    }
  }

  void lock(std::size_t position, bool shared) {
    if (!is_rwsem(position)) return mutex_at(position).lock();
    if (shared) return rwsem_at(position).lock_shared();
    rwsem_at(position).lock();
  }
  bool try_lock(std::size_t position) {
    return is_rwsem(position) ? rwsem_at(position).try_lock() : mutex_at(position).try_lock();
  }
  void unlock(std::size_t position, bool shared) {
    if (!is_rwsem(position)) return mutex_at(position).unlock();
    if (shared) return rwsem_at(position).unlock_shared();
    rwsem_at(position).unlock();
  }

 private:
  lockdep::mutex& mutex_at(std::size_t position) { return mutexes_[position - position / 4]; }
  lockdep::shared_mutex& rwsem_at(std::size_t position) { return rwsems_[position / 4]; }

  // Deques: the locks are neither copyable nor movable.
  std::deque<lockdep::mutex> mutexes_;
  std::deque<lockdep::shared_mutex> rwsems_;
};

struct taken_lock {
  std::size_t position;
  bool shared;
};

class ordered_worker {
 public:
  ordered_worker(lock_pool& pool, std::uint64_t seed) : pool_(pool), random_(seed) {}

  // Locks the given increasing positions, then releases everything.
  void lock_exactly(const std::vector<std::size_t>& positions) {
    for (std::size_t position : positions) take(position);
    release_all();
  }

  // A random increasing subset, blocking; now and then one more lock taken out of order with
  // a trylock (never blocks, and nothing is taken after it, so no dependency leads from it).
  void random_iteration() {
    for (std::size_t position = 0; position < pool_size; ++position) {
      if (chance(take_chance)) take(position);
    }
    if (chance(0.1)) try_take(random_position());
    release_all();
  }

 private:
  bool chance(double probability) { return std::bernoulli_distribution(probability)(random_); }
  std::size_t random_position() {
    return std::uniform_int_distribution<std::size_t>(0, pool_size - 1)(random_);
  }

  void take(std::size_t position) {
    bool shared = is_rwsem(position) && chance(0.75);
    pool_.lock(position, shared);
    taken_.push_back({position, shared});
  }

  void try_take(std::size_t position) {
    for (const taken_lock& held : taken_) {
      if (held.position == position) return;  // a second lock by the owner would be undefined
    }
    if (pool_.try_lock(position)) taken_.push_back({position, false});
  }

  // Mostly in reverse order; sometimes one from the middle first, which makes the validator
  // take the locks above it again.
  void release_all() {
    if (taken_.size() > 2 && chance(0.2)) {
      std::size_t index = std::uniform_int_distribution<std::size_t>(0, taken_.size() - 2)(random_);
      pool_.unlock(taken_[index].position, taken_[index].shared);
      taken_.erase(taken_.begin() + static_cast<std::ptrdiff_t>(index));
    }
    while (!taken_.empty()) {
      pool_.unlock(taken_.back().position, taken_.back().shared);
      taken_.pop_back();
    }
  }

  lock_pool& pool_;
  std::mt19937_64 random_;
  std::vector<taken_lock> taken_;
};

// Runs `worker_count` threads of random ordered iterations until run_time has passed;
// `midway(worker)` runs once in each thread, when half of run_time has passed (always before
// the thread stops, however the threads are scheduled).
void run_ordered_workers(lock_pool& pool, const std::function<void(std::size_t)>& midway = {}) {
  using clock = std::chrono::steady_clock;
  const clock::time_point start = clock::now();
  const clock::time_point halfway = start + run_time / 2, deadline = start + run_time;
  std::vector<std::thread> threads;
  for (std::size_t index = 0; index < worker_count; ++index) {
    threads.emplace_back([&, index] {
      ordered_worker worker(pool, 7919 * (index + 1));
      bool midway_done = !midway;
      for (;;) {
        clock::time_point now = clock::now();
        if (!midway_done && now >= halfway) {
          midway(index);
          midway_done = true;
        }
        if (now >= deadline) break;
        worker.random_iteration();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

// Random subsets of 64 locks make new chains for as long as the workers run (there are far
// more subsets than any table holds), so the tables must outlast run_time: room for four
// million chains, which even an optimized build does not fill in that time.
lockdep::options roomy_chain_tables() {
  lockdep::options configured = lockdep::current_options();
  configured.max_chains = 1 << 22;
  configured.max_chain_hlocks = 1 << 25;
  return configured;
}

void check_single_inversion(const lockdep::testing::report_capture& capture, const char* first,
                            const char* second) {
  REQUIRE(capture.count() == 1);
  lockdep::report inversion = capture.only();
  CHECK(inversion.kind == lockdep::report_kind::circular_dependency);
  // Acquiring `first` while holding `second`, against the learnt first --> second.
  CHECK(inversion.acquiring.class_name == first);
  CHECK(inversion.holding.class_name == second);
  CHECK(inversion.cycle() == std::vector<std::string>{first, second});
  CHECK_FALSE(lockdep::validation_enabled());  // off after the first report, as in the kernel
}

}  // namespace

TEST_CASE("stress: threads locking in one global order get no report", "[stress]") {
  lockdep::testing::report_capture capture(roomy_chain_tables());
  lock_pool pool;
  run_ordered_workers(pool);
  REQUIRE(capture.empty());
  CHECK(lockdep::validation_enabled());
  // The run covered the pool: every lock was taken, and many chains were validated.
  lockdep::validator_stats stats = lockdep::snapshot().stats;
  INFO("chains " << stats.dependency_chains << ", hits " << stats.chain_lookup_hits);
  CHECK(stats.lock_classes == pool_size);
  CHECK(stats.dependency_chains > 1000);
}

TEST_CASE("stress: one inversion after the ordered threads gives one circular report", "[stress]") {
  lockdep::testing::report_capture capture(roomy_chain_tables());
  lock_pool pool;
  // m05 and m06 (positions 6 and 8) have rw01 between them in the order; taking only these
  // puts them next to each other on the stack: the dependency m05 --> m06 is direct and the
  // reported cycle has exactly them.
  constexpr std::size_t m05 = 6, m06 = 8;
  REQUIRE(lock_names()[m05] == "m05");
  REQUIRE(lock_names()[m06] == "m06");
  ordered_worker(pool, 1).lock_exactly({2, m05, m06, 12});
  run_ordered_workers(pool);
  REQUIRE(capture.empty());

  std::thread inverter([&pool] {
    pool.lock(m06, false);
    pool.lock(m05, false);
    pool.unlock(m05, false);
    pool.unlock(m06, false);
  });
  inverter.join();
  check_single_inversion(capture, name_at(m05), name_at(m06));
}

TEST_CASE("stress: one inversion while ordered threads run gives one circular report", "[stress]") {
  lockdep::testing::report_capture capture(roomy_chain_tables());
  lock_pool pool;
  // Two locks only the planting threads touch: one thread learns outer --> inner and is done
  // with them before another inverts them, so the inversion cannot really deadlock.
  lockdep::mutex outer{"planted_outer"}, inner{"planted_inner"};
  std::latch order_learnt{1};
  run_ordered_workers(pool, [&](std::size_t worker) {
    if (worker == 1) {
      {
        // Not std::scoped_lock: its deadlock avoidance try-locks the second mutex, and a
        // trylock teaches no order.
        std::lock_guard first(outer);
        std::lock_guard second(inner);
      }
      order_learnt.count_down();
    } else if (worker == 2) {
      order_learnt.wait();
      std::lock_guard second(inner);
      std::lock_guard first(outer);
    }
  });
  // The workers kept locking after the report, with the validator off, and all finished.
  check_single_inversion(capture, "planted_outer", "planted_inner");
}

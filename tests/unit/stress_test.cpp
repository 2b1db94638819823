// Multi-threaded stress on the instrumented lock types: threads that lock random subsets of
// mutexes and rwsems in one global order (with out-of-order unlocks and out-of-order trylocks,
// which are both fine) must get no report; a single inversion planted among them, after them or
// while they run, must get exactly one circular report naming its two classes, and everything
// must still finish.
#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
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
#include "lockdep/testing.hpp"
#include "lockdep/validator.hpp"

namespace {

constexpr std::size_t pool_size = 20;  // 16 mutexes and 4 rwsems
constexpr std::size_t worker_count = 4;
constexpr int iterations_per_worker = 10000;

// Position in the global order -> name. Every fifth lock is an rwsem.
constexpr std::array<const char*, pool_size> lock_names = {
    "m00", "m01", "m02", "m03", "rw0", "m04", "m05", "m06", "m07", "rw1",
    "m08", "m09", "m10", "m11", "rw2", "m12", "m13", "m14", "m15", "rw3"};

bool is_rwsem(std::size_t position) {
  return position % 5 == 4;
}

// The locks, addressed by their position in the global order; each has its own class.
class lock_pool {
 public:
  lock_pool() {
    for (std::size_t position = 0; position < pool_size; ++position) {
      if (is_rwsem(position)) {
        rwsems_.emplace_back(lock_names[position]);
      } else {
        mutexes_.emplace_back(lock_names[position]);
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
  lockdep::mutex& mutex_at(std::size_t position) { return mutexes_[position - position / 5]; }
  lockdep::shared_mutex& rwsem_at(std::size_t position) { return rwsems_[position / 5]; }

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
      if (chance(0.2)) take(position);
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

// Runs `worker_count` threads of random ordered iterations; `midway(worker)` runs in each
// thread halfway through.
void run_ordered_workers(lock_pool& pool, const std::function<void(std::size_t)>& midway = {}) {
  std::vector<std::thread> threads;
  for (std::size_t index = 0; index < worker_count; ++index) {
    threads.emplace_back([&pool, &midway, index] {
      ordered_worker worker(pool, 7919 * (index + 1));
      for (int i = 0; i < iterations_per_worker; ++i) {
        if (i == iterations_per_worker / 2 && midway) midway(index);
        worker.random_iteration();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

// Random subsets of 20 locks make tens of thousands of distinct chains: room for all of them.
lockdep::options roomy_chain_tables() {
  lockdep::options configured = lockdep::current_options();
  configured.max_chains = 1 << 18;
  configured.max_chain_hlocks = 1 << 21;
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
}

TEST_CASE("stress: one inversion after the ordered threads gives one circular report", "[stress]") {
  lockdep::testing::report_capture capture(roomy_chain_tables());
  lock_pool pool;
  // m05 and m06 are neighbours in the order, so taking both puts them next to each other on
  // the stack: the dependency m05 --> m06 is direct and the reported cycle has exactly them.
  constexpr std::size_t m05 = 6, m06 = 7;
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
  check_single_inversion(capture, lock_names[m05], lock_names[m06]);
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

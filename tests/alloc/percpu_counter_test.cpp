// percpu_counter: exact sums under concurrent adds, the approximate read, set and compare.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "lockdep/mm/percpu.hpp"
#include "lockdep/mm/percpu_counter.hpp"
#include "lockdep/testing.hpp"

using namespace lockdep::mm;

TEST_CASE("concurrent adds sum exactly", "[percpu_counter]") {
  lockdep::testing::report_capture capture;
  percpu_counter counter;
  REQUIRE(percpu_counter_init(&counter, 5, GFP_KERNEL) == 0);
  constexpr int threads = 4;
  constexpr int adds = 50000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&counter, t] {
      for (int i = 0; i < adds; ++i) percpu_counter_add(&counter, (t % 2 == 0) ? 3 : -1);
    });
  }
  for (auto& worker : workers) worker.join();
  std::int64_t expected = 5 + (threads / 2) * adds * 3 - (threads / 2) * adds;
  CHECK(percpu_counter_sum(&counter) == expected);
  // The cheap read is off by at most one batch per CPU.
  std::int64_t slack = static_cast<std::int64_t>(percpu_counter_batch()) * num_possible_cpus();
  CHECK(std::llabs(percpu_counter_read(&counter) - expected) <= slack);
  CHECK(percpu_counter_compare(&counter, expected) == 0);
  CHECK(percpu_counter_compare(&counter, expected - 1) == 1);
  CHECK(percpu_counter_compare(&counter, expected + 10 * slack) == -1);
  percpu_counter_destroy(&counter);
  CHECK(capture.empty());
}

TEST_CASE("set, inc, dec and positive reads", "[percpu_counter]") {
  percpu_counter counter;
  REQUIRE(percpu_counter_init(&counter, 0, GFP_KERNEL) == 0);
  percpu_counter_dec(&counter);
  percpu_counter_dec(&counter);
  CHECK(percpu_counter_sum(&counter) == -2);
  CHECK(percpu_counter_sum_positive(&counter) == 0);
  percpu_counter_set(&counter, 100);
  percpu_counter_inc(&counter);
  CHECK(percpu_counter_sum(&counter) == 101);
  CHECK(percpu_counter_read_positive(&counter) >= 0);
  percpu_counter_add_batch(&counter, 1000, 32);  // beyond the batch: folded into the total
  CHECK(percpu_counter_read(&counter) >= 1000);
  CHECK(percpu_counter_sum(&counter) == 1101);
  percpu_counter_destroy(&counter);
  percpu_counter_destroy(&counter);  // a second destroy is harmless
}

TEST_CASE("adds stay exact with more threads than CPUs (preemption and migration)",
          "[percpu_counter][rseq]") {
  percpu_counter counter;
  REQUIRE(percpu_counter_init(&counter, 0, GFP_KERNEL) == 0);
  constexpr int threads = 8;
  constexpr int adds = 200000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&counter, t] {
      for (int i = 0; i < adds; ++i) {
        percpu_counter_add(&counter, (i % 7 == 0) ? -5 : 1);
        if (i % 50000 == t) std::this_thread::yield();  // invite migrations
      }
    });
  }
  for (auto& worker : workers) worker.join();
  std::int64_t per_thread = 0;
  for (int i = 0; i < adds; ++i) per_thread += (i % 7 == 0) ? -5 : 1;
  CHECK(percpu_counter_sum(&counter) == threads * per_thread);
  percpu_counter_destroy(&counter);
}

// The chain cache's table: it grows from a small start, keeps every key through growth and
// removal, stops at max_chains, and answers lock-free readers correctly while it grows.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "chain_cache.hpp"
#include "chain_key.hpp"

namespace {

using lockdep::detail::chain_cache;

// Distinct, well-mixed keys, as real chain keys are.
std::uint64_t key_number(std::uint32_t n) {
  return lockdep::detail::iterate_chain_key(lockdep::detail::initial_chain_key, n + 1);
}

chain_cache::insert_result insert_chain(chain_cache& cache, std::uint32_t n,
                                        std::vector<lockdep::detail::class_index> classes,
                                        std::uint32_t* id) {
  return cache.insert(key_number(n), classes, id);
}

std::uint32_t insert_key(chain_cache& cache, std::uint32_t n) {
  std::uint32_t id = 0;
  REQUIRE(insert_chain(cache, n, {n}, &id) == chain_cache::insert_result::inserted);
  return id;
}

}  // namespace

TEST_CASE("the chain table grows and keeps every key", "[chain_cache]") {
  chain_cache cache(8192, 8192);
  std::size_t initial_slots = cache.slot_count();
  for (std::uint32_t n = 0; n < 5000; ++n) insert_key(cache, n);
  CHECK(cache.slot_count() > initial_slots);
  CHECK(cache.slot_count() >= 2 * cache.size());  // at most half full
  CHECK(cache.slot_count() <= 2 * 8192);
  for (std::uint32_t n = 0; n < 5000; ++n) REQUIRE(cache.contains(key_number(n)));
  for (std::uint32_t n = 5000; n < 10000; ++n) REQUIRE_FALSE(cache.contains(key_number(n)));
}

TEST_CASE("removed chains are gone and their slots are reused", "[chain_cache]") {
  chain_cache cache(4096, 4096);
  std::vector<std::uint32_t> ids;
  for (std::uint32_t n = 0; n < 3000; ++n) ids.push_back(insert_key(cache, n));
  for (std::uint32_t n = 0; n < 3000; n += 2) cache.remove(ids[n]);
  CHECK(cache.size() == 1500);
  for (std::uint32_t n = 0; n < 3000; ++n) REQUIRE(cache.contains(key_number(n)) == (n % 2 == 1));
  // Churn well past the table size: tombstones are cleared, not accumulated into a full table.
  for (std::uint32_t round = 0; round < 20; ++round) {
    std::vector<std::uint32_t> added;
    for (std::uint32_t n = 0; n < 1000; ++n) added.push_back(insert_key(cache, 10000 + n));
    for (std::uint32_t n = 0; n < 1000; ++n) REQUIRE(cache.contains(key_number(10000 + n)));
    for (std::uint32_t id : added) cache.remove(id);
    for (std::uint32_t n = 0; n < 1000; ++n) REQUIRE_FALSE(cache.contains(key_number(10000 + n)));
  }
  CHECK(cache.size() == 1500);
  CHECK(cache.slot_count() <= 2 * 4096);
  for (std::uint32_t n = 1; n < 3000; n += 2) REQUIRE(cache.contains(key_number(n)));
}

TEST_CASE("the chain table refuses chains past max_chains", "[chain_cache]") {
  chain_cache cache(100, 1000);
  for (std::uint32_t n = 0; n < 100; ++n) insert_key(cache, n);
  std::uint32_t id = 0;
  CHECK(insert_chain(cache, 100, {100}, &id) == chain_cache::insert_result::chains_full);
  CHECK_FALSE(cache.contains(key_number(100)));
}

TEST_CASE("a lock-free reader finds every published key while the table grows", "[chain_cache]") {
  constexpr std::uint32_t total = 40000;
  chain_cache cache(total, total);
  std::atomic<std::uint32_t> published{0};
  std::atomic<bool> missed{false};
  std::thread reader([&] {
    std::uint32_t checked = 0;
    while (published.load(std::memory_order_acquire) < total) {
      std::uint32_t visible = published.load(std::memory_order_acquire);
      if (visible == 0) continue;
      // The newest key and a spread of older ones: a key found once must stay found.
      std::uint32_t probe = checked++ % visible;
      if (!cache.contains(key_number(visible - 1)) || !cache.contains(key_number(probe))) {
        missed.store(true);
      }
    }
  });
  for (std::uint32_t n = 0; n < total; ++n) {
    std::uint32_t id = 0;
    if (insert_chain(cache, n, {n}, &id) != chain_cache::insert_result::inserted) break;
    published.store(n + 1, std::memory_order_release);
  }
  published.store(total, std::memory_order_release);
  reader.join();
  CHECK_FALSE(missed.load());
  CHECK(cache.size() == total);
}

TEST_CASE("chain class storage is reused after removals, splitting longer blocks",
          "[chain_cache]") {
  // Room for exactly 100 classes.
  chain_cache cache(1000, 100);
  std::vector<std::uint32_t> ids;
  std::uint32_t id = 0;
  for (std::uint32_t n = 0; n < 10; ++n) {
    REQUIRE(insert_chain(cache, n, std::vector<lockdep::detail::class_index>(10, n + 1), &id) ==
            chain_cache::insert_result::inserted);
    ids.push_back(id);
  }
  CHECK(cache.hlocks_used() == 100);
  CHECK(insert_chain(cache, 10, {1}, &id) == chain_cache::insert_result::hlocks_full);

  // Freed blocks of ten hold chains of ten again, and split for shorter ones.
  cache.remove(ids[0]);
  cache.remove(ids[1]);
  REQUIRE(insert_chain(cache, 11, std::vector<lockdep::detail::class_index>(10, 7), &id) ==
          chain_cache::insert_result::inserted);
  const chain_cache::chain* ten = cache.record(id);
  REQUIRE(ten != nullptr);
  CHECK(ten->classes.size() == 10);
  for (std::uint32_t n = 12; n < 17; ++n) {
    REQUIRE(insert_chain(cache, n, {n, n}, &id) == chain_cache::insert_result::inserted);
    const chain_cache::chain* two = cache.record(id);
    REQUIRE(two != nullptr);
    CHECK(two->classes[0] == n);
    CHECK(two->classes[1] == n);
  }
  CHECK(cache.hlocks_used() == 100);
  CHECK(insert_chain(cache, 17, {1}, &id) == chain_cache::insert_result::hlocks_full);
  // The chains that stayed kept their classes.
  for (std::uint32_t n = 2; n < 10; ++n) {
    const chain_cache::chain* kept = cache.record(ids[n]);
    REQUIRE(kept != nullptr);
    CHECK(kept->classes.size() == 10);
    CHECK(kept->classes[9] == n + 1);
  }
}

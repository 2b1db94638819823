// stack_store: the deduplicating trace store every dependency's first-seen trace goes into.
#include "stack_store.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <vector>

using lockdep::detail::stack_store;

TEST_CASE("stack_store deduplicates traces", "[stack_trace]") {
  stack_store store(100);
  const std::vector<std::uintptr_t> trace{0x1000, 0x2000, 0x3000};

  const stack_store::trace_id first = store.intern(trace);
  CHECK(first == 1);
  const std::vector<std::uintptr_t> same_trace = trace;  // equal contents, other storage
  CHECK(store.intern(same_trace) == first);
  CHECK(store.trace_count() == 1);
  CHECK(store.entries_used() == 3);

  const auto stored = store.frames(first);
  CHECK(std::vector(stored.begin(), stored.end()) == trace);
}

TEST_CASE("stack_store tells different traces apart", "[stack_trace]") {
  stack_store store(100);
  const std::vector<std::vector<std::uintptr_t>> traces{
      {0x1000, 0x2000, 0x3000}, {0x3000, 0x2000, 0x1000}, {0x1000, 0x2000}, {0x2000, 0x3000}};

  std::vector<stack_store::trace_id> ids;
  for (const auto& trace : traces) ids.push_back(store.intern(trace));

  CHECK(ids == std::vector<stack_store::trace_id>{1, 2, 3, 4});
  CHECK(store.entries_used() == 10);
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const auto stored = store.frames(ids[i]);
    CHECK(std::vector(stored.begin(), stored.end()) == traces[i]);
  }
}

TEST_CASE("stack_store keeps many traces retrievable", "[stack_trace]") {
  stack_store store(1 << 16);
  std::vector<stack_store::trace_id> ids;
  for (std::uintptr_t i = 0; i < 2000; ++i) ids.push_back(store.intern(std::array{i, i + 1, i}));

  CHECK(store.trace_count() == 2000);
  for (std::uintptr_t i = 0; i < 2000; ++i) {
    CHECK(ids[i] == i + 1);
    const auto stored = store.frames(ids[i]);
    REQUIRE(stored.size() == 3);
    CHECK(stored[0] == i);
    CHECK(stored[1] == i + 1);
  }
  for (std::uintptr_t i = 0; i < 2000; ++i) CHECK(store.intern(std::array{i, i + 1, i}) == i + 1);
  CHECK(store.trace_count() == 2000);
}

TEST_CASE("stack_store answers no_trace for empty traces and unknown ids", "[stack_trace]") {
  stack_store store(10);
  CHECK(store.intern({}) == stack_store::no_trace);
  CHECK(store.trace_count() == 0);
  CHECK(store.frames(stack_store::no_trace).empty());
  CHECK(store.frames(1).empty());

  const stack_store::trace_id id = store.intern(std::array<std::uintptr_t, 1>{0x42});
  CHECK(store.frames(id).size() == 1);
  CHECK(store.frames(id + 1).empty());
}

TEST_CASE("stack_store respects its entry budget", "[stack_trace]") {
  stack_store store(5);
  CHECK(store.max_entries() == 5);
  const std::vector<std::uintptr_t> three{1, 2, 3};

  const stack_store::trace_id stored = store.intern(three);
  REQUIRE(stored != stack_store::no_trace);
  CHECK(store.intern(std::vector<std::uintptr_t>{4, 5, 6}) == stack_store::no_trace);
  CHECK(store.entries_used() == 3);

  CHECK(store.intern(std::vector<std::uintptr_t>{4, 5}) != stack_store::no_trace);  // exactly full
  CHECK(store.entries_used() == 5);
  CHECK(store.intern(std::vector<std::uintptr_t>{7}) == stack_store::no_trace);
  // A trace already stored needs no room.
  CHECK(store.intern(three) == stored);
  CHECK(store.trace_count() == 2);
}

TEST_CASE("stack_store::clear forgets every trace", "[stack_trace]") {
  stack_store store(5);
  const std::vector<std::uintptr_t> trace{1, 2, 3, 4, 5};
  const stack_store::trace_id before = store.intern(trace);
  REQUIRE(store.intern(std::vector<std::uintptr_t>{6}) == stack_store::no_trace);

  store.clear();
  CHECK(store.entries_used() == 0);
  CHECK(store.trace_count() == 0);
  CHECK(store.frames(before).empty());

  const std::vector<std::uintptr_t> other{6, 7};
  CHECK(store.intern(other) == 1);
  const auto stored = store.frames(1);
  CHECK(std::vector(stored.begin(), stored.end()) == other);
}

TEST_CASE("stack_store can be moved", "[stack_trace]") {
  stack_store store(10);
  const std::vector<std::uintptr_t> trace{1, 2, 3};
  const stack_store::trace_id id = store.intern(trace);

  stack_store moved = std::move(store);
  const auto stored = moved.frames(id);
  CHECK(std::vector(stored.begin(), stored.end()) == trace);
  CHECK(moved.intern(trace) == id);
  CHECK(moved.max_entries() == 10);
}

TEST_CASE("stack_store tells long traces apart by any frame and by order", "[stack_trace]") {
  // Traces as deep as real ones: the hash works through them in several independent lanes, so
  // frames that swap places (within a lane or across lanes) or change anywhere must still make
  // a different trace, and each must be found again.
  const std::vector<std::uintptr_t> base{0x401000, 0x402000, 0x403000, 0x404000, 0x405000,
                                         0x406000, 0x407000, 0x408000, 0x409000};
  std::vector<std::vector<std::uintptr_t>> traces{base};
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (std::size_t j = i + 1; j < base.size(); ++j) {
      std::vector<std::uintptr_t> swapped = base;
      std::swap(swapped[i], swapped[j]);
      traces.push_back(swapped);
    }
    std::vector<std::uintptr_t> changed = base;
    changed[i] += 1;
    traces.push_back(changed);
    traces.emplace_back(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(i) + 1);
  }
  traces.emplace_back(base.rbegin(), base.rend());

  stack_store store(1 << 16);
  std::vector<stack_store::trace_id> ids;
  for (const auto& trace : traces) ids.push_back(store.intern(trace));
  // The prefix of all nine frames is `base` itself.
  const std::set<std::vector<std::uintptr_t>> distinct(traces.begin(), traces.end());
  CHECK(store.trace_count() == distinct.size());
  for (std::size_t i = 0; i < traces.size(); ++i) {
    CHECK(store.intern(traces[i]) == ids[i]);
    const auto stored = store.frames(ids[i]);
    CHECK(std::vector(stored.begin(), stored.end()) == traces[i]);
  }
}

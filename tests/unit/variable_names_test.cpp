// Locks in static storage named by their variable (symbolization.hpp's static_variable_name):
// the demangled symbol, then the member path the debug information gives.
#include <pthread.h>

#include <array>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "symbolization.hpp"

using lockdep::detail::static_variable_name;

namespace {
std::mutex stats;
}  // namespace

std::mutex inventory;

struct table {
  int rows = 0;
  std::mutex lock;
};
table tables[4];

struct grid_cell {
  pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;
  char padding[24];
};
grid_cell grid[2][3];

struct connection_pool {
  static std::shared_mutex mutex_;
};
std::shared_mutex connection_pool::mutex_;

std::array<std::mutex, 4> shard_locks;

struct account {
  long balance = 0;
  lockdep::mutex m;
};
account alice;
account bob;

unsigned char raw_bytes[256];

struct padded {
  char tag = 0;
  alignas(64) std::mutex lock;
};
padded padded_lock;

namespace {
const void* function_static() {
  static std::mutex local;
  return &local;
}
}  // namespace

TEST_CASE("a static lock is named by its variable", "[names]") {
  CHECK(static_variable_name(&inventory) == "inventory");
  CHECK(static_variable_name(&stats) == "(anonymous namespace)::stats");
  CHECK(static_variable_name(&connection_pool::mutex_) == "connection_pool::mutex_");
  CHECK(static_variable_name(function_static()) ==
        "(anonymous namespace)::function_static()::local");
}

TEST_CASE("a lock inside a static aggregate is named by its member path", "[names]") {
  CHECK(static_variable_name(&tables[3].lock) == "tables[3].lock");
  CHECK(static_variable_name(&tables[0].lock) == "tables[0].lock");
  CHECK(static_variable_name(&grid[1][2].guard) == "grid[1][2].guard");
  CHECK(static_variable_name(&shard_locks[2]) == "shard_locks[2]");
  CHECK(static_variable_name(&alice.m) == "alice.m");
  CHECK(static_variable_name(&bob.m) == "bob.m");
  // The library's lock types stop the path: their lock_map is theirs.
  CHECK(static_variable_name(&bob.m.lockdep_map()) == "bob.m");
}

TEST_CASE("a static lock where no member is named by its offset", "[names]") {
  CHECK(static_variable_name(&raw_bytes[64]) == "raw_bytes[64]");
  // Padding: bytes 1 to 63 of `padded` belong to no member.
  CHECK(static_variable_name(reinterpret_cast<const char*>(&padded_lock) + 8) == "padded_lock+0x8");
  CHECK(static_variable_name(&padded_lock.lock) == "padded_lock.lock");
}

TEST_CASE("a lock outside static storage has no variable name", "[names]") {
  std::mutex on_stack;
  auto on_heap = std::make_unique<std::mutex>();
  CHECK(static_variable_name(&on_stack).empty());
  CHECK(static_variable_name(on_heap.get()).empty());
  CHECK(static_variable_name(nullptr).empty());
}

// Two members declared on one line: constructed without key or name, their classes would both
// be named after that line (`variable_names_test.cpp:NN` and `...:NN#2`); in static storage the
// report names each by its variable.
struct transfer_account {
  lockdep::mutex first, second;
};
transfer_account savings;

TEST_CASE("a report names key-less library locks in static storage by their variables", "[names]") {
  lockdep::testing::report_capture capture;
  savings.first.lock();
  savings.second.lock();
  savings.second.unlock();
  savings.first.unlock();
  savings.second.lock();
  savings.first.lock();
  savings.first.unlock();
  savings.second.unlock();
  REQUIRE(capture.count() == 1);
  const lockdep::report found = capture.only();
  CHECK(found.acquiring.class_name == "savings.first");
  CHECK(found.holding.class_name == "savings.second");
  CHECK(found.cycle() == std::vector<std::string>{"savings.first", "savings.second"});
  CHECK(found.id == "circular_dependency|savings.first|savings.second");
}

TEST_CASE("a key-less library lock outside static storage keeps its construction site", "[names]") {
  lockdep::testing::report_capture capture;
  auto heap_accounts = std::make_unique<transfer_account>();
  heap_accounts->first.lock();
  // A second lock() would hang for real; might_lock validates the same acquisition.
  lockdep::might_lock(heap_accounts->first.lockdep_map());
  heap_accounts->first.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().acquiring.class_name.starts_with("variable_names_test.cpp:"));
}

// The already-validated path: no global lock, no allocation. Checked by behaviour: the graph
// lock is held by the test while another thread locks and unlocks, and every allocation of
// that thread is counted.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <new>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "validator_core.hpp"

namespace {
thread_local std::size_t allocations_on_this_thread = 0;
}

// clang links its sanitizer runtimes statically, with their own global operator new: the test
// counts through the runtime's allocation hook there instead (every malloc, a stricter count).
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LOCKDEP_TEST_COUNTS_WITH_SANITIZER_HOOK 1
#endif
#endif

#ifdef LOCKDEP_TEST_COUNTS_WITH_SANITIZER_HOOK
#include <sanitizer/allocator_interface.h>

namespace {
void count_allocation(const volatile void*, std::size_t) {
  ++allocations_on_this_thread;
}
void ignore_free(const volatile void*) {}  // the runtime installs a pair or nothing
[[maybe_unused]] const int hook_installed =
    __sanitizer_install_malloc_and_free_hooks(count_allocation, ignore_free);
}  // namespace
#else
// Counting replacements for the global allocation functions (this test binary only).
void* operator new(std::size_t size) {
  ++allocations_on_this_thread;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++allocations_on_this_thread;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
// Every form that frees what the forms above allocate (a sanitizer's own operator delete would
// see a mismatch with our malloc).
void operator delete(void* memory) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  std::free(memory);
}
void operator delete(void* memory, const std::nothrow_t&) noexcept {
  std::free(memory);
}
void operator delete[](void* memory) noexcept {
  std::free(memory);
}
void operator delete[](void* memory, std::size_t) noexcept {
  std::free(memory);
}
void operator delete[](void* memory, const std::nothrow_t&) noexcept {
  std::free(memory);
}
#endif

namespace {

void nested_lock_unlock(lockdep::mutex& outer, lockdep::shared_mutex& inner, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    std::lock_guard held(outer);
    std::shared_lock reading(inner);
  }
}

}  // namespace

TEST_CASE("a validated chain takes no global lock", "[fast_path]") {
  lockdep::testing::report_capture capture;
  lockdep::mutex outer{"outer"};
  lockdep::shared_mutex inner{"inner"};
  std::thread([&] { nested_lock_unlock(outer, inner, 1); }).join();  // validate the chains

  auto done = std::async(std::launch::async, [&] {
    nested_lock_unlock(outer, inner, 1000);
    return true;
  });
  {
    // While the test holds the graph lock, anything that needs it would wait forever.
    std::lock_guard graph(lockdep::detail::core().graph_lock);
    REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  }
  CHECK(done.get());
  CHECK(capture.empty());
}

TEST_CASE("a validated chain allocates nothing", "[fast_path]") {
  lockdep::testing::report_capture capture;
  lockdep::mutex outer{"outer"};
  lockdep::shared_mutex inner{"inner"};
  std::size_t during_first = 0, during_repeats = 0;
  std::thread([&] {
    std::size_t before = allocations_on_this_thread;
    nested_lock_unlock(outer, inner, 1);
    during_first = allocations_on_this_thread - before;
    before = allocations_on_this_thread;
    nested_lock_unlock(outer, inner, 1000);
    during_repeats = allocations_on_this_thread - before;
  }).join();
  CHECK(during_first > 0);  // new chains: records, edges, traces
  CHECK(during_repeats == 0);
  CHECK(capture.empty());
}

// pcpu_alloc / free_percpu: per-CPU isolation, chunk creation and population, atomic
// allocations, misuse, and the 5.6 / 5.7 decision inside a NOFS scope.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <set>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/percpu.hpp"
#include "lockdep/testing.hpp"

using namespace lockdep::mm;
using lockdep::report_kind;
using lockdep::testing::report_capture;

namespace {

// Restores the default behaviour and drains the balance work after each test.
struct allocator_test_scope {
  ~allocator_test_scope() {
    flush_pcpu_balance_work();
    set_pcpu_alloc_behaviour(pcpu_alloc_behaviour::v5_7);
  }
};

bool overlaps(std::uintptr_t a, std::size_t a_size, std::uintptr_t b, std::size_t b_size) {
  return a < b + b_size && b < a + a_size;
}

}  // namespace

TEST_CASE("each CPU has its own zeroed copy", "[percpu]") {
  report_capture capture;
  allocator_test_scope cleanup;
  auto* values = alloc_percpu<std::uint64_t>();
  REQUIRE(values != nullptr);
  for (int cpu = 0; cpu < num_possible_cpus(); ++cpu) CHECK(*per_cpu_ptr(values, cpu) == 0);
  for (int cpu = 0; cpu < num_possible_cpus(); ++cpu) *per_cpu_ptr(values, cpu) = 1000 + cpu;
  for (int cpu = 0; cpu < num_possible_cpus(); ++cpu) {
    CHECK(*per_cpu_ptr(values, cpu) == static_cast<std::uint64_t>(1000 + cpu));
  }
  CHECK(this_cpu_ptr(values) == per_cpu_ptr(values, raw_smp_processor_id()));
  free_percpu(values);
  // Freed memory comes back zeroed.
  auto* again = alloc_percpu<std::uint64_t>();
  REQUIRE(again != nullptr);
  for (int cpu = 0; cpu < num_possible_cpus(); ++cpu) CHECK(*per_cpu_ptr(again, cpu) == 0);
  free_percpu(again);
  CHECK(capture.empty());
}

TEST_CASE("many allocations create chunks; areas never overlap and keep alignment", "[percpu]") {
  report_capture capture;
  allocator_test_scope cleanup;
  struct area {
    char* ptr;
    std::size_t size;
  };
  std::vector<area> areas;
  std::size_t sizes[] = {4, 8, 24, 100, 512, 4096, 8192};
  std::size_t aligns[] = {4, 8, 64, 256, 4096};
  for (int i = 0; i < 120; ++i) {
    std::size_t size = sizes[i % 7];
    std::size_t align = aligns[i % 5];
    auto* ptr = static_cast<char*>(__alloc_percpu(size, align));
    REQUIRE(ptr != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(ptr) % align == 0);
    for (const area& other : areas) {
      REQUIRE_FALSE(overlaps(reinterpret_cast<std::uintptr_t>(ptr), size,
                             reinterpret_cast<std::uintptr_t>(other.ptr), other.size));
    }
    std::fill(ptr, ptr + size, static_cast<char>(i));  // CPU 0's copy is really usable
    *per_cpu_ptr(ptr, num_possible_cpus() - 1) = 1;
    areas.push_back({ptr, size});
  }
  CHECK(get_pcpu_stats().nr_chunks >= 1);
  CHECK(get_pcpu_stats().allocations >= areas.size());
  for (const area& each : areas) free_percpu(each.ptr);
  flush_pcpu_balance_work();
  // Surplus empty chunks are released by the balance work: at most one stays.
  CHECK(get_pcpu_stats().nr_chunks <= 1);
  CHECK(capture.empty());
}

TEST_CASE("bad sizes and alignments warn and return nullptr", "[percpu][misuse]") {
  report_capture capture;
  allocator_test_scope cleanup;
  CHECK(__alloc_percpu(0, 4) == nullptr);
  CHECK(__alloc_percpu(PCPU_MIN_UNIT_SIZE + 4, 4) == nullptr);
  CHECK(__alloc_percpu(8, 12) == nullptr);  // below 4 is rounded up to 4; 12 is no power of two
  CHECK(__alloc_percpu(8, 8192) == nullptr);
  REQUIRE(capture.count() == 4);
  for (const lockdep::report& each : capture.reports()) {
    CHECK(each.kind == report_kind::warning);
    CHECK(each.assertion.find("for percpu allocation") != std::string::npos);
  }
  CHECK(__alloc_percpu_gfp(0, 4, GFP_KERNEL | __GFP_NOWARN) == nullptr);
  CHECK(capture.count() == 4);  // __GFP_NOWARN: silent
}

TEST_CASE("double frees and foreign pointers are reported, never corrupting", "[percpu][misuse]") {
  report_capture capture;
  allocator_test_scope cleanup;
  auto* first = alloc_percpu<int>();
  auto* second = alloc_percpu<int>();
  REQUIRE(first != nullptr);
  REQUIRE(second != nullptr);
  *second = 42;
  free_percpu(first);
  free_percpu(first);  // twice
  int on_stack = 0;
  free_percpu(&on_stack);                                 // not from the allocator
  free_percpu(per_cpu_ptr(second, num_possible_cpus()));  // past the last unit
  free_percpu(reinterpret_cast<char*>(second) + 2);       // inside an allocation
  REQUIRE(capture.count() == 4);
  for (const lockdep::report& each : capture.reports()) {
    CHECK(each.kind == report_kind::warning);
    CHECK(each.assertion.find("free_percpu(") == 0);
  }
  CHECK(*second == 42);  // the live allocation is intact
  free_percpu(second);
  CHECK(capture.count() == 4);
}

TEST_CASE("reserved allocations come from the reserved chunk", "[percpu]") {
  report_capture capture;
  allocator_test_scope cleanup;
  std::vector<void*> reserved;
  for (int i = 0; i < 4; ++i) {
    void* ptr = __alloc_reserved_percpu(1024, 8);
    REQUIRE(ptr != nullptr);
    reserved.push_back(ptr);
  }
  // The reserved area is 8 KiB: it runs out.
  void* too_many = nullptr;
  for (int i = 0; i < 8 && (too_many = __alloc_reserved_percpu(1024, 8)) != nullptr; ++i) {
    reserved.push_back(too_many);
  }
  CHECK(too_many == nullptr);
  CHECK(reserved.size() < 9);
  for (void* ptr : reserved) free_percpu(ptr);
  CHECK(__alloc_reserved_percpu(1024, 8) != nullptr);
}

TEST_CASE("atomic allocations use populated pages only and kick the balance work",
          "[percpu][atomic]") {
  report_capture capture;
  allocator_test_scope cleanup;
  // Use up the populated space with atomic allocations until one fails.
  std::vector<void*> taken;
  void* ptr;
  while ((ptr = __alloc_percpu_gfp(4096, 4096, GFP_NOWAIT | __GFP_NOWARN)) != nullptr) {
    taken.push_back(ptr);
  }
  // The failure is remembered, and the balance work populates pages for the next try.
  flush_pcpu_balance_work();
  CHECK_FALSE(get_pcpu_stats().atomic_alloc_failed);
  CHECK(get_pcpu_stats().nr_empty_pop_pages >= PCPU_EMPTY_POP_PAGES_LOW);
  void* after = __alloc_percpu_gfp(4096, 4096, GFP_NOWAIT | __GFP_NOWARN);
  CHECK(after != nullptr);
  taken.push_back(after);
  for (void* each : taken) free_percpu(each);
  CHECK(capture.empty());
}

TEST_CASE("inside a NOFS scope, 5.6 takes pcpu_alloc_mutex and 5.7 does not", "[percpu][nofs]") {
  pcpu_alloc_behaviour version = GENERATE(pcpu_alloc_behaviour::v5_6, pcpu_alloc_behaviour::v5_7);
  report_capture capture;
  allocator_test_scope cleanup;
  set_pcpu_alloc_behaviour(version);
  lockdep::shared_mutex commit_root_sem{"&fs_info->commit_root_sem"};
  void* counter;
  {
    std::shared_lock held(commit_root_sem);
    memalloc_nofs_scope nofs;
    counter = __alloc_percpu_gfp(4, 4, GFP_KERNEL);
  }
  REQUIRE(counter != nullptr);
  // Whether commit_root_sem --> pcpu_alloc_mutex was recorded: the reverse order reports it.
  {
    std::lock_guard mutex(pcpu_alloc_mutex());
    std::unique_lock writer(commit_root_sem);
  }
  if (version == pcpu_alloc_behaviour::v5_6) {
    REQUIRE(capture.count() == 1);
    CHECK(capture.only().cycle() ==
          std::vector<std::string>{"&fs_info->commit_root_sem", "pcpu_alloc_mutex"});
  } else {
    CHECK(capture.empty());
  }
  free_percpu(counter);
}

TEST_CASE("a failed atomic allocation warns once", "[percpu][atomic]") {
  report_capture capture;
  allocator_test_scope cleanup;
  std::vector<void*> taken;
  // Two exhaustions, each ending in a failure; the balance work refills in between.
  for (int round = 0; round < 2; ++round) {
    void* ptr;
    while ((ptr = __alloc_percpu_gfp(4096, 4096, GFP_NOWAIT)) != nullptr) taken.push_back(ptr);
    flush_pcpu_balance_work();
  }
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::warning);
  CHECK(capture.only().assertion.find("atomic=1") != std::string::npos);
  for (void* each : taken) free_percpu(each);
}

TEST_CASE("percpu_unique_ptr owns an allocation and frees it once", "[percpu]") {
  report_capture capture;
  allocator_test_scope cleanup;
  std::size_t before = get_pcpu_stats().allocations;
  {
    auto owned = make_percpu<long>();
    REQUIRE(owned);
    owned.on_cpu(0) = 7;
    CHECK(*per_cpu_ptr(owned.get(), 0) == 7);
    CHECK(get_pcpu_stats().allocations == before + 1);
    percpu_unique_ptr<long> moved = std::move(owned);
    CHECK_FALSE(owned);
    CHECK(moved.on_cpu(0) == 7);
    auto* gfp_area = alloc_percpu_gfp<int>(GFP_KERNEL);
    REQUIRE(gfp_area != nullptr);
    moved.reset();  // frees the first
    percpu_unique_ptr<int> adopted(gfp_area);
  }
  CHECK(get_pcpu_stats().allocations == before);
  CHECK(capture.empty());  // no double free reported
}

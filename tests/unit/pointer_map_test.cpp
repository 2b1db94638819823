// pointer_map, the class registry's address-keyed table: finds what was inserted through growth,
// forgets what was erased, and stays usable under insert/erase churn (tombstones are reused or
// dropped, so lookups of absent keys still end).
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "pointer_map.hpp"

namespace {

const void* address(std::uintptr_t n) {
  return reinterpret_cast<const void*>(0x10000 + n * 112);  // lock-sized strides, as in arrays
}

}  // namespace

TEST_CASE("pointer_map finds every inserted key through growth", "[pointer_map]") {
  lockdep::detail::pointer_map<unsigned> map;
  for (unsigned n = 0; n < 10000; ++n) map[address(n)] = n + 1;
  CHECK(map.size() == 10000);
  for (unsigned n = 0; n < 10000; ++n) {
    const unsigned* found = map.find(address(n));
    REQUIRE(found != nullptr);
    REQUIRE(*found == n + 1);
  }
  for (unsigned n = 10000; n < 20000; ++n) REQUIRE(map.find(address(n)) == nullptr);
}

TEST_CASE("pointer_map agrees with std::map under random inserts and erases", "[pointer_map]") {
  lockdep::detail::pointer_map<unsigned> map;
  std::map<const void*, unsigned> reference;
  std::mt19937 random(7);
  for (int step = 0; step < 200000; ++step) {
    const void* key = address(random() % 3000);
    switch (random() % 3) {
      case 0:
        map[key] = static_cast<unsigned>(step);
        reference[key] = static_cast<unsigned>(step);
        break;
      case 1:
        map.erase(key);
        reference.erase(key);
        break;
      default: {
        const unsigned* found = map.find(key);
        auto expected = reference.find(key);
        REQUIRE((found != nullptr) == (expected != reference.end()));
        if (found != nullptr) REQUIRE(*found == expected->second);
      }
    }
  }
  CHECK(map.size() == reference.size());
}

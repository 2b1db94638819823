// lock_pages: the index of where tracked pthread objects lie, searched by range when memory is
// freed. The addresses are made up (the index never touches the memory it describes), each test
// in a page range of its own so that tests do not see each other's entries.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lock_pages.hpp"

using lockdep::preload::lock_pages_add;
using lockdep::preload::lock_pages_any_in;
using lockdep::preload::lock_pages_for_each_in;
using lockdep::preload::lock_pages_remove;

namespace {

constexpr std::uintptr_t page = 4096;

const void* at(std::uintptr_t address) {
  return reinterpret_cast<const void*>(address);
}

std::vector<std::uintptr_t> found_in(std::uintptr_t begin, std::size_t size) {
  std::vector<std::uintptr_t> found;
  lock_pages_for_each_in(
      at(begin), size,
      [](const void* object, void* context) {
        static_cast<std::vector<std::uintptr_t>*>(context)->push_back(
            reinterpret_cast<std::uintptr_t>(object));
      },
      &found);
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

TEST_CASE("lock pages: an object is found by any range that contains its first byte",
          "[preload][lock_pages]") {
  const std::uintptr_t base = 0x7a0000000000;
  const std::uintptr_t object = base + 0x40;
  REQUIRE(lock_pages_add(at(object)));
  CHECK(lock_pages_any_in(at(object), 1));
  CHECK(lock_pages_any_in(at(base), 0x41));
  CHECK_FALSE(lock_pages_any_in(at(base), 0x40));         // ends just before it
  CHECK_FALSE(lock_pages_any_in(at(object + 1), 0x100));  // starts just after its first byte
  CHECK_FALSE(lock_pages_any_in(at(object), 0));
  CHECK(found_in(base - page, 3 * page) == std::vector<std::uintptr_t>{object});
  lock_pages_remove(at(object));
  CHECK_FALSE(lock_pages_any_in(at(base), page));
}

TEST_CASE("lock pages: 4-byte neighbours, page edges and ranges across pages",
          "[preload][lock_pages]") {
  const std::uintptr_t base = 0x7a1000000000;
  // Two spinlocks in one 8-byte word, the last slot of a page, the first of the next, and one
  // slot 64 (a mask word's edge).
  const std::vector<std::uintptr_t> objects = {base + 8, base + 12, base + page - 4,
                                               base + page + 0, base + 2 * page + 64 * 4};
  for (std::uintptr_t object : objects) REQUIRE(lock_pages_add(at(object)));
  CHECK(found_in(base, 3 * page) == objects);
  CHECK(found_in(base + 12, 4) == std::vector<std::uintptr_t>{base + 12});
  CHECK(found_in(base + 9, 4) == std::vector<std::uintptr_t>{base + 12});
  CHECK(found_in(base + page - 8, 12) == std::vector<std::uintptr_t>{base + page - 4, base + page});
  CHECK(found_in(base + 2 * page + 64 * 4, 1) ==
        std::vector<std::uintptr_t>{base + 2 * page + 64 * 4});
  CHECK(found_in(base + 2 * page, 64 * 4).empty());
  lock_pages_remove(at(base + 8));
  CHECK(found_in(base, 16) == std::vector<std::uintptr_t>{base + 12});
  for (std::uintptr_t object : objects) lock_pages_remove(at(object));
  CHECK(found_in(base, 3 * page).empty());
}

TEST_CASE("lock pages: a range of more pages than the index holds walks the entries",
          "[preload][lock_pages]") {
  const std::uintptr_t base = 0x7a2000000000;
  const std::uintptr_t far = base + (std::uintptr_t{1} << 36);  // 64 GiB further
  REQUIRE(lock_pages_add(at(base + 16)));
  REQUIRE(lock_pages_add(at(far)));
  // 2^24 pages: far more than there are entries.
  CHECK(found_in(base, std::uintptr_t{1} << 36) == std::vector<std::uintptr_t>{base + 16});
  CHECK(found_in(base, (std::uintptr_t{1} << 36) + 1) ==
        std::vector<std::uintptr_t>{base + 16, far});
  // The whole address space, without wrapping around.
  CHECK(found_in(base, SIZE_MAX).size() >= 2);
  lock_pages_remove(at(base + 16));
  lock_pages_remove(at(far));
  CHECK_FALSE(lock_pages_any_in(at(base), SIZE_MAX));
}

TEST_CASE("lock pages: a visitor may remove what it is shown", "[preload][lock_pages]") {
  const std::uintptr_t base = 0x7a3000000000;
  for (std::uintptr_t offset = 0; offset < 256; offset += 8)
    REQUIRE(lock_pages_add(at(base + offset)));
  lock_pages_for_each_in(
      at(base), 256, [](const void* object, void*) { lock_pages_remove(object); }, nullptr);
  CHECK_FALSE(lock_pages_any_in(at(base), 256));
}

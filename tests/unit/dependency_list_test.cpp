// dependency_list: one class's dependencies in one direction, with holes left by removals.
#include "dependency_list.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <utility>
#include <vector>

using lockdep::detail::class_index;
using lockdep::detail::dependency;
using lockdep::detail::dependency_list;

namespace {

dependency entry(class_index other) {
  return {other, 1, 1, other * 10, other * 100};
}

std::vector<class_index> others(const dependency_list& list) {
  std::vector<class_index> seen;
  for (const dependency& edge : list) seen.push_back(edge.other);
  return seen;
}

dependency_list list_of(std::initializer_list<class_index> classes) {
  dependency_list list;
  for (class_index other : classes) list.append(entry(other));
  return list;
}

}  // namespace

TEST_CASE("dependency_list keeps entries in order at stable positions as it grows",
          "[dependency_list]") {
  dependency_list list;
  CHECK(list.empty());
  std::vector<class_index> expected;
  for (class_index other = 1; other <= 40; ++other) {
    CHECK(list.append(entry(other)) == other - 1);  // position = order of arrival
    expected.push_back(other);
    CHECK(others(list) == expected);
  }
  CHECK(list.size() == 40);
  for (std::uint32_t position = 0; position < 40; ++position) {
    const dependency& edge = list.at(position);
    CHECK(edge.other == position + 1);
    CHECK(edge.trace == (position + 1) * 10);
    CHECK(edge.mirror == (position + 1) * 100);
  }
}

TEST_CASE("dependency_list skips holes and compacts once half are holes", "[dependency_list]") {
  dependency_list list = list_of({1, 2, 3, 4, 5, 6});
  list.remove(1);
  list.remove(3);
  CHECK(others(list) == std::vector<class_index>{1, 3, 5, 6});
  CHECK(list.size() == 4);
  CHECK(list.positions() == 6);

  std::map<class_index, std::uint32_t> moved_to;
  auto note_move = [&](const dependency& edge, std::uint32_t position) {
    moved_to[edge.other] = position;
  };
  list.compact_if_sparse(note_move);  // 2 holes in 6: not yet
  CHECK(moved_to.empty());
  CHECK(list.positions() == 6);

  list.remove(0);
  list.compact_if_sparse(note_move);  // 3 holes in 6
  CHECK(others(list) == std::vector<class_index>{3, 5, 6});
  CHECK(list.positions() == 3);
  CHECK(moved_to == std::map<class_index, std::uint32_t>{{3, 0}, {5, 1}, {6, 2}});
  CHECK(list.at(1).other == 5);
}

TEST_CASE("dependency_list's only entry can be removed, and the list reused", "[dependency_list]") {
  dependency_list list = list_of({7});
  list.remove(0);
  CHECK(list.empty());
  CHECK(others(list).empty());
  list.compact_if_sparse([](const dependency&, std::uint32_t) { FAIL("nothing to move"); });
  CHECK(list.positions() == 0);
  CHECK(list.append(entry(8)) == 0);
  CHECK(others(list) == std::vector<class_index>{8});
}

TEST_CASE("dependency_list copies and moves, short or long", "[dependency_list]") {
  for (std::size_t length : {0, 1, 2, 9}) {
    dependency_list original;
    std::vector<class_index> expected;
    for (class_index other = 1; other <= length; ++other) {
      original.append(entry(other));
      expected.push_back(other);
    }
    dependency_list copy = original;
    CHECK(others(copy) == expected);
    copy.append(entry(99));  // the copy is its own list
    CHECK(others(original) == expected);

    dependency_list assigned = list_of({50, 51, 52});
    assigned = original;
    CHECK(others(assigned) == expected);

    dependency_list moved = std::move(copy);
    expected.push_back(99);
    CHECK(others(moved) == expected);
    CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from list is empty
    copy.append(entry(5));
    CHECK(others(copy) == std::vector<class_index>{5});

    dependency_list move_assigned = list_of({60});
    move_assigned = std::move(moved);
    CHECK(others(move_assigned) == expected);
  }
}

TEST_CASE("dependency_list::release forgets every entry", "[dependency_list]") {
  for (std::size_t length : {1, 5}) {
    dependency_list list;
    for (class_index other = 1; other <= length; ++other) list.append(entry(other));
    list.remove(0);
    list.release();
    CHECK(list.empty());
    CHECK(list.positions() == 0);
    CHECK(list.append(entry(3)) == 0);
    CHECK(others(list) == std::vector<class_index>{3});
  }
}

// Lock classes from keys: shared static keys, split keys, subclasses, dynamic keys and address
// reuse (also of many classes forgotten in any order), per-instance defaults, and the kernel's
// naming (#N, /N).
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/state.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

using lockdep::report_kind;
using lockdep::testing::report_capture;
using lockdep_test::lock_unlock_2;
using lockdep_test::names;

namespace {

struct delayed_node {
  lockdep::mutex mutex{LOCKDEP_CLASS("&delayed_node->mutex")};
};

struct two_members {
  lockdep::mutex a, b;
};

}  // namespace

TEST_CASE("all instances created at one LOCKDEP_CLASS site share a class", "[keys]") {
  report_capture capture;
  delayed_node first, second;
  lockdep::mutex other{"other"};
  lock_unlock_2(first.mutex, other);
  // A different instance of the same class in the other order: still an inversion.
  lock_unlock_2(other, second.mutex);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"&delayed_node->mutex", "other"}));
}

TEST_CASE("two instances of one class nested without annotation are recursive locking", "[keys]") {
  report_capture capture;
  delayed_node parent, child;
  parent.mutex.lock();
  child.mutex.lock();
  child.mutex.unlock();
  parent.mutex.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::recursive_locking);
  CHECK(capture.only().kernel_text().find("lock(&delayed_node->mutex);") != std::string::npos);
}

TEST_CASE("lock_nested with a subclass allows the nesting and names it /N", "[keys]") {
  report_capture capture;
  delayed_node parent, child;
  lockdep::mutex other{"other"};
  parent.mutex.lock();
  child.mutex.lock_nested(1);
  other.lock();
  other.unlock();
  child.mutex.unlock();
  parent.mutex.unlock();
  CHECK(capture.empty());
  // other --> subclass 1 closes a cycle with &delayed_node->mutex/1 --> other.
  other.lock();
  child.mutex.lock_nested(1);
  child.mutex.unlock();
  other.unlock();
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"&delayed_node->mutex/1", "other"}));
}

TEST_CASE("the struct-member default never merges two locks", "[keys][default]") {
  report_capture capture;
  two_members s;
  s.a.lock();
  s.b.lock();  // a and b share a construction site but not a class: no recursive report
  s.b.unlock();
  s.a.unlock();
  CHECK(capture.empty());
}

TEST_CASE("the default class is named after where the lock was constructed", "[keys][default]") {
  report_capture capture;
  lockdep::mutex first;  // this line's number is in the class name
  int first_line = __LINE__ - 1;
  lockdep::mutex second;
  lock_unlock_2(first, second);
  lock_unlock_2(second, first);
  REQUIRE(capture.count() == 1);
  std::string expected = "keys_test.cpp:" + std::to_string(first_line);
  CHECK(capture.only().acquiring.class_name == expected);
  CHECK(capture.only().holding.class_name == "keys_test.cpp:" + std::to_string(first_line + 2));
}

TEST_CASE("locks constructed on one line get #N suffixes", "[keys][default]") {
  report_capture capture;
  two_members s;
  lock_unlock_2(s.a, s.b);
  lock_unlock_2(s.b, s.a);
  REQUIRE(capture.count() == 1);
  std::string a_name = capture.only().acquiring.class_name;
  std::string b_name = capture.only().holding.class_name;
  CHECK(a_name.find("keys_test.cpp:") == 0);
  CHECK(b_name == a_name.substr(0, a_name.find('#')) + "#2");
}

TEST_CASE("a class keeps its name while others of that name come and go", "[keys][default]") {
  lockdep::options keep_going = lockdep::current_options();
  keep_going.keep_going = true;  // two reports
  report_capture capture(keep_going);
  // One construction site in this file, so one name for every lock it makes (inside
  // std::make_unique the site would be the library's).
  auto make = [] { return std::unique_ptr<lockdep::mutex>(new lockdep::mutex); };
  lockdep::mutex other{"other"};
  auto first = make();
  auto second = make();
  lock_unlock_2(*first, other);
  lock_unlock_2(*second, other);
  first.reset();  // the name stays in use by the second
  lock_unlock_2(other, *second);
  REQUIRE(capture.count() == 1);
  std::string site = capture.only().acquiring.class_name;
  INFO("acquiring: " << site);
  REQUIRE(site.find("keys_test.cpp:") == 0);
  REQUIRE(site.size() > 2);
  CHECK(site.substr(site.size() - 2) == "#2");
  site.resize(site.size() - 2);

  second.reset();  // the name's last class: the name is forgotten with it
  auto third = make();
  lock_unlock_2(*third, other);
  lockdep::mutex last{"last"};
  lock_unlock_2(other, last);
  lock_unlock_2(last, *third);
  REQUIRE(capture.count() == 2);
  // Numbered afresh: the first class of a name prints no #N.
  CHECK(capture.reports()[1].acquiring.class_name == site);
}

TEST_CASE("split keys with one name are told apart by #N", "[keys]") {
  report_capture capture;
  static lockdep::lock_class_key first_fs{"&type->s_umount_key"};
  static lockdep::lock_class_key second_fs{"&type->s_umount_key"};
  lockdep::shared_mutex ext4{first_fs}, btrfs{second_fs};
  lock_unlock_2(ext4, btrfs);
  lock_unlock_2(btrfs, ext4);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"&type->s_umount_key", "&type->s_umount_key#2"}));
}

TEST_CASE("LOCKDEP_INIT names the class after the argument, like mutex_init", "[keys]") {
  report_capture capture;
  auto node = std::make_unique<delayed_node>();
  lockdep::mutex plain;
  LOCKDEP_INIT(&plain);
  lock_unlock_2(node->mutex, plain);
  lock_unlock_2(plain, node->mutex);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().acquiring.class_name == "&delayed_node->mutex");
  CHECK(capture.only().holding.class_name == "&plain");
}

TEST_CASE("a destroyed dynamic key forgets its classes and edges", "[keys][dynamic]") {
  report_capture capture;
  lockdep::mutex other{"other"};
  {
    lockdep::dynamic_lock_class_key key{"per_instance"};
    lockdep::mutex m{key};
    lock_unlock_2(m, other);
  }
  {
    lockdep::dynamic_lock_class_key key{"per_instance"};
    lockdep::mutex m{key};
    lock_unlock_2(other, m);  // the old m --> other edge is gone
  }
  CHECK(capture.empty());
}

TEST_CASE("a new lock at a destroyed lock's address starts clean", "[keys][dynamic]") {
  report_capture capture;
  lockdep::mutex other{"other"};
  alignas(lockdep::mutex) unsigned char storage[sizeof(lockdep::mutex)];
  auto* first = new (storage) lockdep::mutex("reused");
  lock_unlock_2(*first, other);
  first->~mutex();
  auto* second = new (storage) lockdep::mutex("reused");
  REQUIRE(static_cast<void*>(first) == static_cast<void*>(second));
  lock_unlock_2(other, *second);
  second->~mutex();
  CHECK(capture.empty());
}

TEST_CASE("a kept key keeps its class across instances", "[keys][dynamic]") {
  report_capture capture;
  lockdep::dynamic_lock_class_key key{"kept"};
  lockdep::mutex other{"other"};
  {
    lockdep::mutex m{key};
    lock_unlock_2(m, other);
  }
  {
    lockdep::mutex m{key};
    lock_unlock_2(other, m);
  }
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == names({"kept", "other"}));
}

TEST_CASE("forgetting many classes in any order keeps the others' dependencies exact",
          "[keys][dynamic]") {
  // Every leaf is taken under `hub` and before `tail`, so each forget removes an entry from
  // the middle of two long lists, and, once half of a list is gone, compacts it: the entries
  // that move must still be found by the forgets that come later.
  report_capture capture;
  lockdep::mutex hub{"hub"}, tail{"tail"};
  struct leaf {
    lockdep::dynamic_lock_class_key key{"leaf"};
    lockdep::mutex lock{key};
  };
  constexpr std::size_t leaf_count = 600;
  std::vector<std::unique_ptr<leaf>> leaves;
  for (std::size_t i = 0; i < leaf_count; ++i) {
    leaf& added = *leaves.emplace_back(std::make_unique<leaf>());
    lock_unlock_2(hub, added.lock);
    lock_unlock_2(added.lock, tail);
  }
  std::mt19937 random(2026);
  std::shuffle(leaves.begin(), leaves.end(), random);
  leaves.resize(leaf_count / 3);  // forgets two thirds, in random order

  lockdep::validator_state state = lockdep::snapshot();
  std::set<const void*> kept_keys;
  for (const auto& kept : leaves) kept_keys.insert(&kept->key);
  std::set<const void*> after_hub, before_tail;
  for (const lockdep::dependency_state& dependency : state.dependencies) {
    const lockdep::class_state& from = state.classes[dependency.from];
    const lockdep::class_state& to = state.classes[dependency.to];
    if (from.name == "hub") after_hub.insert(to.key);
    if (to.name == "tail") before_tail.insert(from.key);
  }
  CHECK(after_hub == kept_keys);
  CHECK(before_tail == kept_keys);
  CHECK(state.dependencies.size() == 2 * kept_keys.size());
  REQUIRE(capture.empty());

  // A kept leaf still closes a cycle with tail.
  lock_unlock_2(tail, leaves.back()->lock);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().kind == report_kind::circular_dependency);
}

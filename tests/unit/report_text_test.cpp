// Rendering of reports as kernel lockdep text. The circular case is checked against a real
// kernel report (the btrfs/percpu one in shared/reference/percpu-nofs-patch-thread.txt).

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "lockdep/report.hpp"

using namespace lockdep;

namespace {

using lines = std::vector<std::string>;

// Splits on '\n'; a trailing newline does not make an extra empty line.
lines split_lines(const std::string& text) {
  lines out;
  std::string::size_type start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

const void* ptr(std::uintptr_t value) {
  return reinterpret_cast<const void*>(value);
}

// Builds a frame from its `%pS` text, "function+0xoff/0xsize [module]".
stack_frame frame(const std::string& text, std::uintptr_t address = 0x401000) {
  stack_frame f;
  f.address = address;
  std::string symbol = text;
  auto bracket = symbol.find(" [");
  if (bracket != std::string::npos) {
    f.module = symbol.substr(bracket + 2, symbol.size() - bracket - 3);
    symbol.resize(bracket);
  }
  auto plus = symbol.rfind('+');
  auto slash = symbol.rfind('/');
  f.function = symbol.substr(0, plus);
  f.offset = std::stoul(symbol.substr(plus + 1, slash - plus - 1), nullptr, 16);
  f.size = std::stoul(symbol.substr(slash + 1), nullptr, 16);
  return f;
}

stack_trace trace(std::initializer_list<const char*> texts) {
  stack_trace out;
  for (const char* text : texts) out.push_back(frame(text));
  return out;
}

lock_description lock(std::uintptr_t instance, std::string name, std::string usage,
                      const char* site, lock_access access = lock_access::exclusive) {
  lock_description l;
  l.instance = ptr(instance);
  l.class_name = std::move(name);
  l.usage = std::move(usage);
  l.acquired_at = frame(site);
  l.access = access;
  return l;
}

report base_report(report_kind kind) {
  report r;
  r.kind = kind;
  r.thread = {"kswapd0", 91};
  r.cpu = 1;
  r.backtrace = trace({"dump_stack+0x8f/0xd0", "kthread+0x120/0x140", "ret_from_fork+0x3a/0x50"});
  return r;
}

const lines seed_backtrace_tail = {
    "Call Trace:",
    " dump_stack+0x8f/0xd0",
    " kthread+0x120/0x140",
    " ret_from_fork+0x3a/0x50",
};

lock_description seed_fs_reclaim() {
  return lock(0xffffffffb4f0dbc0, "fs_reclaim", "{+.+.}", "__fs_reclaim_acquire+0x5/0x30");
}

lines seed_held_lines() {
  return {
      "3 locks held by kswapd0/91:",
      " #0: ffffffffb4f0dbc0 (fs_reclaim){+.+.}, at: __fs_reclaim_acquire+0x5/0x30",
      " #1: ffffffffb4ef6ce8 (shrinker_rwsem){++++}, at: shrink_slab+0x12f/0x2c0",
      " #2: ffff8938ae0490d8 (&type->s_umount_key#43){++++}, at: trylock_super+0x16/0x50",
  };
}

void add_seed_held_locks(report& r) {
  r.held_locks = {
      seed_fs_reclaim(),
      lock(0xffffffffb4ef6ce8, "shrinker_rwsem", "{++++}", "shrink_slab+0x12f/0x2c0",
           lock_access::shared),
      lock(0xffff8938ae0490d8, "&type->s_umount_key#43", "{++++}", "trylock_super+0x16/0x50",
           lock_access::shared),
  };
}

// The report of the reference thread, with shortened dependency traces.
report seed_report() {
  report r = base_report(report_kind::circular_dependency);
  r.acquiring = lock(0xffff8938a3b3fdc8, "&delayed_node->mutex", "{+.+.}",
                     "__btrfs_release_delayed_node.part.0+0x3f/0x320 [btrfs]");
  r.holding = seed_fs_reclaim();
  r.chain = {
      {"fs_reclaim", "{+.+.}",
       trace({"fs_reclaim_acquire.part.0+0x25/0x30", "__kmalloc+0x5f/0x3a0"})},
      {"pcpu_alloc_mutex", "{+.+.}",
       trace({"__mutex_lock+0xa9/0xaf0", "btrfs_drew_lock_init+0x22/0x70 [btrfs]"})},
      {"&fs_info->commit_root_sem", "{++++}", trace({"down_write+0x38/0x70"})},
      {"&space_info->groups_sem", "{++++}", trace({"down_read+0x3c/0x140"})},
      {"&delayed_node->mutex", "{+.+.}",
       trace(
           {"__mutex_lock+0xa9/0xaf0", "__btrfs_release_delayed_node.part.0+0x3f/0x320 [btrfs]"})},
  };
  add_seed_held_locks(r);
  return r;
}

// Everything the reference shows up to `stack backtrace:`, indentation restored.
const char* const seed_text = R"(
======================================================
WARNING: possible circular locking dependency detected
lockdep-0.1.0 #1 Not tainted
------------------------------------------------------
kswapd0/91 is trying to acquire lock:
ffff8938a3b3fdc8 (&delayed_node->mutex){+.+.}, at: __btrfs_release_delayed_node.part.0+0x3f/0x320 [btrfs]

but task is already holding lock:
ffffffffb4f0dbc0 (fs_reclaim){+.+.}, at: __fs_reclaim_acquire+0x5/0x30

which lock already depends on the new lock.


the existing dependency chain (in reverse order) is:

-> #4 (fs_reclaim){+.+.}:
       fs_reclaim_acquire.part.0+0x25/0x30
       __kmalloc+0x5f/0x3a0

-> #3 (pcpu_alloc_mutex){+.+.}:
       __mutex_lock+0xa9/0xaf0
       btrfs_drew_lock_init+0x22/0x70 [btrfs]

-> #2 (&fs_info->commit_root_sem){++++}:
       down_write+0x38/0x70

-> #1 (&space_info->groups_sem){++++}:
       down_read+0x3c/0x140

-> #0 (&delayed_node->mutex){+.+.}:
       __mutex_lock+0xa9/0xaf0
       __btrfs_release_delayed_node.part.0+0x3f/0x320 [btrfs]

other info that might help us debug this:

Chain exists of:
  &delayed_node->mutex --> pcpu_alloc_mutex --> fs_reclaim

 Possible unsafe locking scenario:

       CPU0                    CPU1
       ----                    ----
  lock(fs_reclaim);
                               lock(pcpu_alloc_mutex);
                               lock(fs_reclaim);
  lock(&delayed_node->mutex);

 *** DEADLOCK ***

3 locks held by kswapd0/91:
 #0: ffffffffb4f0dbc0 (fs_reclaim){+.+.}, at: __fs_reclaim_acquire+0x5/0x30
 #1: ffffffffb4ef6ce8 (shrinker_rwsem){++++}, at: shrink_slab+0x12f/0x2c0
 #2: ffff8938ae0490d8 (&type->s_umount_key#43){++++}, at: trylock_super+0x16/0x50

stack backtrace:)";

lines slice(const lines& all, std::size_t from, std::size_t count) {
  if (from >= all.size()) return {};
  count = std::min(count, all.size() - from);
  return lines(all.begin() + from, all.begin() + from + count);
}

std::size_t index_of(const lines& all, const std::string& line) {
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == line) return i;
  }
  return all.size();
}

bool contains(const lines& all, const std::string& line) {
  return index_of(all, line) != all.size();
}

// The lines after `stack backtrace:` (or the whole report when there is none) must be a
// dump_stack of the report's thread and backtrace.
void check_dump_stack(const lines& out, std::size_t from) {
  REQUIRE(out.size() >= from + 2 + seed_backtrace_tail.size());
  CHECK(out[from] == "CPU: 1 PID: 91 Comm: kswapd0 Not tainted lockdep-0.1.0 #1");
  CHECK(out[from + 1].rfind("Hardware name: ", 0) == 0);
  CHECK(out[from + 1].size() > std::string("Hardware name: ").size());
  CHECK(slice(out, from + 2, out.size()) == seed_backtrace_tail);
}

void check_ends_with_stack_backtrace(const lines& out) {
  std::size_t at = index_of(out, "stack backtrace:");
  REQUIRE(at < out.size());
  CHECK(out[at - 1].empty());
  check_dump_stack(out, at + 1);
}

}  // namespace

TEST_CASE("circular report matches the kernel's text line for line", "[report_text]") {
  const lines out = seed_report().kernel_lines();
  const lines expected = split_lines(seed_text);
  REQUIRE(out.size() > expected.size());
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("circular report sections", "[report_text]") {
  const lines out = seed_report().kernel_lines();
  REQUIRE(out.size() > 10);

  SECTION("header") {
    CHECK(out[0].empty());
    CHECK(out[1] == std::string(54, '='));
    CHECK(out[2] == "WARNING: possible circular locking dependency detected");
    CHECK(out[3] == "lockdep-0.1.0 #1 Not tainted");
    CHECK(out[4] == std::string(54, '-'));
    CHECK(out[5] == "kswapd0/91 is trying to acquire lock:");
  }
  SECTION("chain blocks are numbered down to #0 and preceded by a blank line") {
    for (const char* head :
         {"-> #4 (fs_reclaim){+.+.}:", "-> #3 (pcpu_alloc_mutex){+.+.}:",
          "-> #2 (&fs_info->commit_root_sem){++++}:", "-> #1 (&space_info->groups_sem){++++}:",
          "-> #0 (&delayed_node->mutex){+.+.}:"}) {
      std::size_t at = index_of(out, head);
      REQUIRE(at < out.size());
      CHECK(out[at - 1].empty());
    }
    CHECK(index_of(out, "-> #4 (fs_reclaim){+.+.}:") <
          index_of(out, "-> #0 (&delayed_node->mutex){+.+.}:"));
  }
  SECTION("chain line names acquiring --> parent --> holding") {
    std::size_t at = index_of(out, "Chain exists of:");
    REQUIRE(at < out.size());
    CHECK(out[at + 1] == "  &delayed_node->mutex --> pcpu_alloc_mutex --> fs_reclaim");
    CHECK(out[at + 2].empty());
  }
  SECTION("held locks") {
    std::size_t at = index_of(out, "3 locks held by kswapd0/91:");
    REQUIRE(at < out.size());
    CHECK(slice(out, at, 4) == seed_held_lines());
    CHECK(out[at - 1].empty());
    CHECK(out[at - 2] == " *** DEADLOCK ***");
  }
}

TEST_CASE("cycle() lists the classes from the acquiring one to the holding one", "[report_text]") {
  CHECK(seed_report().cycle() ==
        std::vector<std::string>{"&delayed_node->mutex", "&space_info->groups_sem",
                                 "&fs_info->commit_root_sem", "pcpu_alloc_mutex", "fs_reclaim"});
  CHECK(base_report(report_kind::recursive_locking).cycle().empty());
  CHECK(base_report(report_kind::bad_unlock_balance).cycle().empty());
}

namespace {

report abba_report() {
  report r = base_report(report_kind::circular_dependency);
  r.acquiring = lock(0x1000, "B", "{+.+.}", "take_b+0x10/0x40");
  r.holding = lock(0x2000, "A", "{+.+.}", "take_a+0x10/0x40");
  r.chain = {{"A", "{+.+.}", trace({"take_a+0x10/0x40"})},
             {"B", "{+.+.}", trace({"take_b+0x10/0x40"})}};
  return r;
}

const lines abba_scenario = {
    " Possible unsafe locking scenario:",
    "",
    "       CPU0                    CPU1",
    "       ----                    ----",
    "  lock(A);",
    "                               lock(B);",
    "                               lock(A);",
    "  lock(B);",
    "",
    " *** DEADLOCK ***",
    "",
    "no locks held by kswapd0/91.",
    "",
    "stack backtrace:",
};

}  // namespace

TEST_CASE("two-lock cycle has no chain line and uses the acquiring class on CPU1",
          "[report_text]") {
  report r = abba_report();
  const lines out = r.kernel_lines();
  CHECK_FALSE(contains(out, "Chain exists of:"));
  CHECK(contains(out, "-> #1 (A){+.+.}:"));
  CHECK(contains(out, "-> #0 (B){+.+.}:"));
  std::size_t at = index_of(out, "other info that might help us debug this:");
  REQUIRE(at < out.size());
  CHECK(out[at + 1].empty());
  CHECK(slice(out, at + 2, abba_scenario.size()) == abba_scenario);
  check_ends_with_stack_backtrace(out);
  CHECK(r.cycle() == std::vector<std::string>{"B", "A"});
}

TEST_CASE("read acquisitions appear as rlock on CPU0 only", "[report_text]") {
  report r = abba_report();
  r.holding.access = lock_access::shared;
  r.acquiring.access = lock_access::shared_recursive;
  const lines out = r.kernel_lines();
  std::size_t at = index_of(out, "       ----                    ----");
  REQUIRE(at < out.size());
  CHECK(slice(out, at + 1, 4) == lines{"  rlock(A);", "                               lock(B);",
                                       "                               lock(A);", "  rlock(B);"});
}

TEST_CASE("recursive locking report", "[report_text]") {
  report r = base_report(report_kind::recursive_locking);
  r.acquiring = lock(0x55d0c0de1010, "&dev->lock", "{+.+.}", "dev_open+0x21/0x90");
  r.holding = lock(0x55d0c0de2020, "&dev->lock", "{+.+.}", "dev_probe+0x42/0x120");
  r.held_locks = {r.holding};
  const lines out = r.kernel_lines();
  const lines expected = split_lines(R"(
============================================
WARNING: possible recursive locking detected
lockdep-0.1.0 #1 Not tainted
--------------------------------------------
kswapd0/91 is trying to acquire lock:
000055d0c0de1010 (&dev->lock){+.+.}, at: dev_open+0x21/0x90

but task is already holding lock:
000055d0c0de2020 (&dev->lock){+.+.}, at: dev_probe+0x42/0x120

other info that might help us debug this:
 Possible unsafe locking scenario:

       CPU0
       ----
  lock(&dev->lock);
  lock(&dev->lock);

 *** DEADLOCK ***

 May be due to missing lock nesting notation

1 lock held by kswapd0/91:
 #0: 000055d0c0de2020 (&dev->lock){+.+.}, at: dev_probe+0x42/0x120

stack backtrace:)");
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("bad unlock balance report", "[report_text]") {
  report r = base_report(report_kind::bad_unlock_balance);
  r.acquiring.class_name = "&dev->lock";
  r.acquiring.acquired_at = frame("dev_close+0x3c/0x80 [libdev.so]", 0x7f12345678ab);
  const lines out = r.kernel_lines();
  const lines expected = split_lines(R"(
=====================================
WARNING: bad unlock balance detected!
lockdep-0.1.0 #1 Not tainted
-------------------------------------
kswapd0/91 is trying to release lock (&dev->lock) at:
[<00007f12345678ab>] dev_close+0x3c/0x80 [libdev.so]
but there are no more locks to release!

other info that might help us debug this:
no locks held by kswapd0/91.

stack backtrace:)");
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("held lock freed report prints the last freed byte", "[report_text]") {
  report r = base_report(report_kind::held_lock_freed);
  r.holding = lock(0x55d0c0de1010, "&obj->lock", "{+.+.}", "obj_use+0x11/0x50");
  r.held_locks = {r.holding};
  r.freed_from = ptr(0x55d0c0de1000);
  r.freed_to = ptr(0x55d0c0de1040);
  const lines out = r.kernel_lines();
  const lines expected = split_lines(R"(
=========================
WARNING: held lock freed!
lockdep-0.1.0 #1 Not tainted
-------------------------
kswapd0/91 is freeing memory 000055d0c0de1000-000055d0c0de103f, with a lock still held there!
000055d0c0de1010 (&obj->lock){+.+.}, at: obj_use+0x11/0x50
1 lock held by kswapd0/91:
 #0: 000055d0c0de1010 (&obj->lock){+.+.}, at: obj_use+0x11/0x50

stack backtrace:)");
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("locks held at exit report keeps 36-wide separators", "[report_text]") {
  report r = base_report(report_kind::locks_held_at_exit);
  add_seed_held_locks(r);
  const lines out = r.kernel_lines();
  lines expected = {"", std::string(36, '='), "WARNING: kswapd0/91 still has locks held!",
                    "lockdep-0.1.0 #1 Not tainted", std::string(36, '-')};
  for (const std::string& line : seed_held_lines()) expected.push_back(line);
  expected.push_back("");
  expected.push_back("stack backtrace:");
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("lock depth overflow report", "[report_text]") {
  report r = base_report(report_kind::lock_depth_overflow);
  r.limit_name = "MAX_LOCK_DEPTH";
  r.limit_option = "max_lock_depth";
  r.limit_value = 48;
  r.depth = 48;
  r.held_locks = {seed_fs_reclaim()};
  const lines out = r.kernel_lines();
  const lines expected = {
      "BUG: MAX_LOCK_DEPTH too low!",
      "turning off the locking correctness validator.",
      "depth: 48  max: 48!",
      "Raise the limit with LOCKDEP_OPTIONS=max_lock_depth=<N>.",
      "1 lock held by kswapd0/91:",
      " #0: ffffffffb4f0dbc0 (fs_reclaim){+.+.}, at: __fs_reclaim_acquire+0x5/0x30",
      "",
      "stack backtrace:",
  };
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("capacity exhausted report", "[report_text]") {
  report r = base_report(report_kind::capacity_exhausted);
  r.limit_name = "MAX_LOCKDEP_KEYS";
  r.limit_option = "max_classes";
  r.limit_value = 8192;
  const lines out = r.kernel_lines();
  const lines expected = {
      "BUG: MAX_LOCKDEP_KEYS too low!",
      "turning off the locking correctness validator.",
      "Raise the limit with LOCKDEP_OPTIONS=max_classes=<N>.",
      "",
      "stack backtrace:",
  };
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("invalid subclass report", "[report_text]") {
  report r = base_report(report_kind::invalid_subclass);
  r.subclass = 9;
  const lines out = r.kernel_lines();
  const lines expected = {
      "BUG: looking up invalid subclass: 9",
      "turning off the locking correctness validator.",
      "",
      "stack backtrace:",
  };
  CHECK(slice(out, 0, expected.size()) == expected);
  check_dump_stack(out, expected.size());
}

TEST_CASE("failed assertion renders as a WARN splat", "[report_text]") {
  report r = base_report(report_kind::assertion_failed);
  r.assertion = "lockdep_assert_held(&m)";
  r.assertion_site.function = "mm/stats.c:42 update_stats";
  lines tail = seed_backtrace_tail;
  tail.push_back("---[ end trace 0000000000000000 ]---");

  SECTION("with the lock") {
    r.acquiring = lock(0x55d0c0de1010, "&m", "{+.+.}", "update_stats+0x1d/0x60");
    lines expected = {
        "------------[ cut here ]------------",
        "WARNING: CPU: 1 PID: 91 at mm/stats.c:42 update_stats",
        "lockdep_assert_held(&m)",
        " lock: 000055d0c0de1010 (&m){+.+.}, at: update_stats+0x1d/0x60",
        "no locks held by kswapd0/91.",
    };
    expected.insert(expected.end(), tail.begin(), tail.end());
    CHECK(r.kernel_lines() == expected);
  }
  SECTION("without a lock instance there is no lock line") {
    const lines out = r.kernel_lines();
    REQUIRE(out.size() > 4);
    CHECK(out[2] == "lockdep_assert_held(&m)");
    CHECK(out[3] == "no locks held by kswapd0/91.");
    CHECK(slice(out, 4, out.size()) == tail);
  }
}

TEST_CASE("kernel_text joins the lines with a final newline", "[report_text]") {
  report r = seed_report();
  std::string joined;
  for (const std::string& line : r.kernel_lines()) joined += line + "\n";
  CHECK(r.kernel_text() == joined);
  CHECK(r.kernel_text().rfind("\n=====", 0) == 0);
  CHECK(r.kernel_text().back() == '\n');
}

TEST_CASE("report kinds have stable identifiers", "[report_text]") {
  CHECK(std::string(to_string(report_kind::circular_dependency)) == "circular_dependency");
  CHECK(std::string(to_string(report_kind::recursive_locking)) == "recursive_locking");
  CHECK(std::string(to_string(report_kind::bad_unlock_balance)) == "bad_unlock_balance");
  CHECK(std::string(to_string(report_kind::held_lock_freed)) == "held_lock_freed");
  CHECK(std::string(to_string(report_kind::locks_held_at_exit)) == "locks_held_at_exit");
  CHECK(std::string(to_string(report_kind::lock_depth_overflow)) == "lock_depth_overflow");
  CHECK(std::string(to_string(report_kind::capacity_exhausted)) == "capacity_exhausted");
  CHECK(std::string(to_string(report_kind::invalid_subclass)) == "invalid_subclass");
  CHECK(std::string(to_string(report_kind::assertion_failed)) == "assertion_failed");
}

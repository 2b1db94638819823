// The btrfs/percpu reproducer, run as a program: its report must match the seed's
// (../shared/reference/percpu-nofs-patch-thread.txt) section by section, and --fixed must be
// silent. Addresses, offsets, tids and timestamps differ by nature; names, order and text do not.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace {

struct run_result {
  int exit_status = -1;
  std::vector<std::string> lines;  // without the "[ seconds.micros] " prefix
};

run_result run_reproducer(const std::string& arguments) {
  run_result result;
  std::string command = std::string(BTRFS_REPRODUCER) + " " + arguments + " 2>&1";
  FILE* output = popen(command.c_str(), "r");
  REQUIRE(output != nullptr);
  std::regex stamp(R"(^\[ *\d+\.\d{6}\] ?)");
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, output) != nullptr) {
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    result.lines.push_back(std::regex_replace(line, stamp, ""));
  }
  int status = pclose(output);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::size_t find_line(const std::vector<std::string>& lines, const std::string& wanted,
                      std::size_t from = 0) {
  for (std::size_t i = from; i < lines.size(); ++i) {
    if (lines[i] == wanted) return i;
  }
  return lines.size();
}

// The frames under a "-> #N" header, up to the blank line that ends them.
std::vector<std::string> trace_after(const std::vector<std::string>& lines, std::size_t header) {
  std::vector<std::string> frames;
  for (std::size_t i = header + 1; i < lines.size() && !lines[i].empty(); ++i) {
    frames.push_back(lines[i]);
  }
  return frames;
}

// Every expected function appears, in this order, each as a frame "name+0x..", with
// " [btrfs]" exactly for the btrfs functions.
void check_trace(const std::vector<std::string>& frames,
                 const std::vector<std::string>& expected_functions) {
  std::size_t at = 0;
  for (const std::string& function : expected_functions) {
    bool is_btrfs =
        function.find("btrfs") != std::string::npos || function == "find_free_extent" ||
        function == "resolve_indirect_refs" || function == "find_parent_nodes" ||
        function == "iterate_extent_inodes" || function == "iterate_inodes_from_logical" ||
        function == "alloc_tree_block_no_bg_flush" || function == "commit_cowonly_roots";
    std::regex frame(
        "^ {7}" + std::regex_replace(function, std::regex(R"(([.+*?^$()\[\]{}|\\]))"), R"(\$1)") +
        R"(\+0x[0-9a-f]+/0x[0-9a-f]+)" + (is_btrfs ? R"( \[btrfs\])" : "") + "$");
    while (at < frames.size() && !std::regex_match(frames[at], frame)) ++at;
    INFO("looking for frame " << function);
    REQUIRE(at < frames.size());
    ++at;
  }
}

}  // namespace

TEST_CASE("the 5.6 reproducer prints the seed's report", "[btrfs_reproducer]") {
  run_result run = run_reproducer("");
  CHECK(run.exit_status == 1);
  const std::vector<std::string>& l = run.lines;

  std::size_t title = find_line(l, "WARNING: possible circular locking dependency detected");
  REQUIRE(title < l.size());
  CHECK(l[title - 2].empty());
  CHECK(l[title - 1] == std::string(54, '='));
  CHECK(l[title + 2] == std::string(54, '-'));
  CHECK(std::regex_match(l[title + 3], std::regex(R"(kswapd0/\d+ is trying to acquire lock:)")));
  CHECK(std::regex_match(
      l[title + 4], std::regex(R"([0-9a-f]{16} \(&delayed_node->mutex\)\{\+\.\+\.\}, at: .*)")));
  CHECK(l[title + 6] == "but task is already holding lock:");
  CHECK(std::regex_match(l[title + 7],
                         std::regex(R"([0-9a-f]{16} \(fs_reclaim\)\{\+\.\+\.\}, at: .*)")));
  CHECK(l[title + 9] == "which lock already depends on the new lock.");
  CHECK(l[title + 12] == "the existing dependency chain (in reverse order) is:");

  std::size_t step4 = find_line(l, "-> #4 (fs_reclaim){+.+.}:", title);
  std::size_t step3 = find_line(l, "-> #3 (pcpu_alloc_mutex){+.+.}:", step4);
  std::size_t step2 = find_line(l, "-> #2 (&fs_info->commit_root_sem){++++}:", step3);
  std::size_t step1 = find_line(l, "-> #1 (&space_info->groups_sem){++++}:", step2);
  std::size_t step0 = find_line(l, "-> #0 (&delayed_node->mutex){+.+.}:", step1);
  REQUIRE(step0 < l.size());
  CHECK(l[step4 - 1].empty());

  check_trace(trace_after(l, step4),
              {"fs_reclaim_acquire", "__kmalloc", "pcpu_create_chunk", "pcpu_balance_workfn",
               "process_one_work", "worker_thread", "kthread", "ret_from_fork"});
  check_trace(trace_after(l, step3),
              {"pcpu_alloc", "__percpu_counter_init", "btrfs_drew_lock_init", "btrfs_get_fs_root",
               "resolve_indirect_refs", "find_parent_nodes", "btrfs_find_all_leafs",
               "iterate_extent_inodes", "iterate_inodes_from_logical", "btrfs_ioctl_logical_to_ino",
               "btrfs_ioctl", "ksys_ioctl"});
  check_trace(trace_after(l, step2),
              {"down_write", "btrfs_cache_block_group", "find_free_extent", "btrfs_reserve_extent",
               "btrfs_alloc_tree_block", "alloc_tree_block_no_bg_flush", "__btrfs_cow_block",
               "btrfs_cow_block", "commit_cowonly_roots", "btrfs_commit_transaction",
               "sync_filesystem", "generic_shutdown_super", "kill_anon_super", "btrfs_kill_super",
               "deactivate_locked_super", "cleanup_mnt"});
  check_trace(
      trace_after(l, step1),
      {"down_read", "find_free_extent", "btrfs_reserve_extent", "btrfs_alloc_tree_block",
       "alloc_tree_block_no_bg_flush", "__btrfs_cow_block", "btrfs_cow_block", "btrfs_search_slot",
       "btrfs_lookup_inode", "__btrfs_update_delayed_inode", "__btrfs_commit_inode_delayed_items",
       "__btrfs_run_delayed_items", "btrfs_commit_transaction", "iterate_supers", "ksys_sync"});
  check_trace(
      trace_after(l, step0),
      {"mutex_lock", "__btrfs_release_delayed_node", "btrfs_evict_inode", "evict", "dispose_list",
       "prune_icache_sb", "super_cache_scan", "do_shrink_slab", "shrink_slab", "shrink_node",
       "balance_pgdat", "kswapd", "kthread", "ret_from_fork"});

  std::size_t other = find_line(l, "other info that might help us debug this:", step0);
  REQUIRE(other + 16 < l.size());
  std::vector<std::string> expected_tail = {
      "other info that might help us debug this:",
      "",
      "Chain exists of:",
      "  &delayed_node->mutex --> pcpu_alloc_mutex --> fs_reclaim",
      "",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0                    CPU1",
      "       ----                    ----",
      "  lock(fs_reclaim);",
      "                               lock(pcpu_alloc_mutex);",
      "                               lock(fs_reclaim);",
      "  lock(&delayed_node->mutex);",
      "",
      " *** DEADLOCK ***",
      "",
  };
  CHECK(std::vector<std::string>(l.begin() + other, l.begin() + other + 16) == expected_tail);
  std::size_t held = other + 16;
  CHECK(std::regex_match(l[held], std::regex(R"(3 locks held by kswapd0/\d+:)")));
  CHECK(std::regex_match(l[held + 1],
                         std::regex(R"( #0: [0-9a-f]{16} \(fs_reclaim\)\{\+\.\+\.\}, at: .*)")));
  CHECK(std::regex_match(
      l[held + 2], std::regex(R"( #1: [0-9a-f]{16} \(shrinker_rwsem\)\{\+\+\+\+\}, at: .*)")));
  CHECK(std::regex_match(
      l[held + 3],
      std::regex(R"( #2: [0-9a-f]{16} \(&type->s_umount_key(#\d+)?\)\{\+\+\+\+\}, at: .*)")));
  CHECK(l[held + 4].empty());
  CHECK(l[held + 5] == "stack backtrace:");
  CHECK(std::regex_match(l[held + 6], std::regex(R"(CPU: \d+ PID: \d+ Comm: kswapd0 .*)")));
}

TEST_CASE("the 5.7 reproducer stays silent", "[btrfs_reproducer]") {
  run_result run = run_reproducer("--fixed");
  CHECK(run.exit_status == 0);
  for (const std::string& line : run.lines) CHECK(line.find("WARNING") == std::string::npos);
}

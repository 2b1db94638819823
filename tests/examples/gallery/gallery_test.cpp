// The gallery (examples/gallery), run as programs: each report must carry its title, the threads
// and lock classes of its story, the kernel's sections in order, and the program's exit status.
// The silent modes must print no report at all. Addresses, offsets, tids and timestamps differ
// by nature; names, order and text do not.
#include <catch2/catch.hpp>

#include "../run_program.hpp"

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace {

using lines_t = std::vector<std::string>;

using example_test::run_program;
using example_test::run_result;

std::string literal(const std::string& text) {
  return std::regex_replace(text, std::regex(R"([.+*?^$()\[\]{}|\\])"), R"(\$&)");
}

bool matches(const std::string& line, const std::string& pattern) {
  return std::regex_match(line, std::regex(pattern));
}

// The first line at or after `from` that is `wanted`; lines.size() if there is none.
std::size_t find_line(const lines_t& lines, const std::string& wanted, std::size_t from = 0) {
  for (std::size_t i = from; i < lines.size(); ++i) {
    if (lines[i] == wanted) return i;
  }
  return lines.size();
}

std::size_t count_reports(const lines_t& lines) {
  std::size_t reports = 0;
  for (const std::string& line : lines) {
    if (line.starts_with("WARNING:") || line.starts_with("BUG:")) ++reports;
  }
  return reports;
}

// The opening of every report: a blank line, a rule of '=', the title, the kernel's ident line,
// a rule of '-', both rules `width` wide. Returns the title's index (REQUIREs that it exists).
std::size_t check_banner(const lines_t& lines, const std::string& title_pattern,
                         std::size_t width) {
  std::size_t title = 0;
  while (title < lines.size() && !matches(lines[title], title_pattern)) ++title;
  INFO("looking for the title " << title_pattern);
  REQUIRE(title >= 2);
  REQUIRE(title + 2 < lines.size());
  CHECK(lines[title - 2].empty());
  CHECK(lines[title - 1] == std::string(width, '='));
  CHECK(matches(lines[title + 1], R"(lockdep-\S+ #\d+ Not tainted)"));
  CHECK(lines[title + 2] == std::string(width, '-'));
  return title;
}

// print_lock(): `<instance> (<class>){<usage>}, at: <function>+0xoff/0xsize`.
std::string lock_line(const std::string& class_name, const std::string& usage,
                      const std::string& function) {
  return "[0-9a-f]{16} \\(" + literal(class_name) + "\\)" + literal(usage) +
         ", at: " + literal(function) + R"(\+0x[0-9a-f]+/0x[0-9a-f]+)";
}

// The frames under a header ("-> #N ...:" or "Call Trace:"), up to the blank line that ends them.
lines_t trace_after(const lines_t& lines, std::size_t header) {
  lines_t frames;
  for (std::size_t i = header + 1; i < lines.size() && !lines[i].empty(); ++i) {
    frames.push_back(lines[i]);
  }
  return frames;
}

// Every function appears, in this order, as a frame "name+0x../0x..".
void check_trace(const lines_t& frames, const std::vector<std::string>& functions) {
  std::size_t at = 0;
  for (const std::string& function : functions) {
    std::regex frame(R"(^ +)" + literal(function) + R"(\+0x[0-9a-f]+/0x[0-9a-f]+$)");
    while (at < frames.size() && !std::regex_match(frames[at], frame)) ++at;
    INFO("looking for frame " << function);
    REQUIRE(at < frames.size());
    ++at;
  }
}

// The two-lock "Possible unsafe locking scenario" of a circular report, with what follows it.
lines_t circular_scenario(const std::string& cpu0_held, const std::string& cpu0_wanted,
                          const std::string& cpu1_first, const std::string& cpu1_second) {
  const std::string cpu1(31, ' ');
  return {"other info that might help us debug this:",
          "",
          " Possible unsafe locking scenario:",
          "",
          "       CPU0                    CPU1",
          "       ----                    ----",
          "  " + cpu0_held,
          cpu1 + cpu1_first,
          cpu1 + cpu1_second,
          "  " + cpu0_wanted,
          "",
          " *** DEADLOCK ***",
          ""};
}

lines_t slice(const lines_t& lines, std::size_t from, std::size_t count) {
  REQUIRE(from + count <= lines.size());
  return lines_t(lines.begin() + from, lines.begin() + from + count);
}

// The held-locks section and the dump_stack header that ends a report, for task `comm`.
void check_held_and_backtrace(const lines_t& lines, std::size_t from, const std::string& comm,
                              const std::vector<std::string>& held_patterns) {
  const std::string count = held_patterns.size() == 1 ? "1 lock" : "2 locks";
  REQUIRE(from + held_patterns.size() + 3 < lines.size());
  CHECK(matches(lines[from], count + " held by " + literal(comm) + R"(/\d+:)"));
  for (std::size_t i = 0; i < held_patterns.size(); ++i) {
    CHECK(matches(lines[from + 1 + i], " #" + std::to_string(i) + ": " + held_patterns[i]));
  }
  std::size_t after = from + 1 + held_patterns.size();
  CHECK(lines[after].empty());
  CHECK(lines[after + 1] == "stack backtrace:");
  CHECK(
      matches(lines[after + 2], R"(CPU: \d+ PID: \d+ Comm: )" + literal(comm) + " Not tainted .*"));
}

void check_silent(const run_result& run) {
  CHECK(run.exit_status == 0);
  for (const std::string& line : run.lines) {
    CHECK(line.find("WARNING") == std::string::npos);
    CHECK(line.find("BUG") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("gallery_abba: an inversion between two threads is reported", "[gallery]") {
  run_result run = run_program(GALLERY_ABBA);
  CHECK(run.exit_status == 1);
  const lines_t& l = run.lines;
  CHECK(count_reports(l) == 1);
  std::size_t title = check_banner(l, "WARNING: possible circular locking dependency detected", 54);
  REQUIRE(title + 12 < l.size());
  CHECK(matches(l[title + 3], R"(vcpu0/\d+ is trying to acquire lock:)"));
  CHECK(matches(l[title + 4], lock_line("&kvm->lock", "{+.+.}", "kvm_vcpu_set_tsc")));
  CHECK(l[title + 6] == "but task is already holding lock:");
  CHECK(matches(l[title + 7], lock_line("&vcpu->mutex", "{+.+.}", "kvm_vcpu_set_tsc")));
  CHECK(l[title + 9] == "which lock already depends on the new lock.");
  CHECK(l[title + 12] == "the existing dependency chain (in reverse order) is:");

  // #1: the order qemu-main recorded earlier; #0: vcpu0 now.
  std::size_t step1 = find_line(l, "-> #1 (&vcpu->mutex){+.+.}:", title);
  std::size_t step0 = find_line(l, "-> #0 (&kvm->lock){+.+.}:", step1);
  REQUIRE(step0 < l.size());
  check_trace(trace_after(l, step1), {"lockdep::mutex::lock", "kvm_vm_set_clock"});
  check_trace(trace_after(l, step0), {"lockdep::mutex::lock", "kvm_vcpu_set_tsc"});

  std::size_t other = find_line(l, "other info that might help us debug this:", step0);
  CHECK(slice(l, other, 13) == circular_scenario("lock(&vcpu->mutex);", "lock(&kvm->lock);",
                                                 "lock(&kvm->lock);", "lock(&vcpu->mutex);"));
  check_held_and_backtrace(l, other + 13, "vcpu0",
                           {lock_line("&vcpu->mutex", "{+.+.}", "kvm_vcpu_set_tsc")});
}

TEST_CASE("gallery_recursive_locking: two locks of one class nested", "[gallery]") {
  run_result run = run_program(GALLERY_RECURSIVE_LOCKING);
  CHECK(run.exit_status == 1);
  const lines_t& l = run.lines;
  CHECK(count_reports(l) == 1);
  std::size_t title = check_banner(l, "WARNING: possible recursive locking detected", 44);
  REQUIRE(title + 20 < l.size());
  CHECK(matches(l[title + 3], R"(reboot/\d+ is trying to acquire lock:)"));
  CHECK(matches(l[title + 4], lock_line("&dev->mutex", "{+.+.}", "device_shutdown")));
  CHECK(l[title + 6] == "but task is already holding lock:");
  CHECK(matches(l[title + 7], lock_line("&dev->mutex", "{+.+.}", "device_shutdown")));
  // Two instances of one class (the parent's and the child's), not one lock taken twice.
  CHECK(l[title + 4].substr(0, 16) != l[title + 7].substr(0, 16));
  const lines_t scenario = {"other info that might help us debug this:",
                            " Possible unsafe locking scenario:",
                            "",
                            "       CPU0",
                            "       ----",
                            "  lock(&dev->mutex);",
                            "  lock(&dev->mutex);",
                            "",
                            " *** DEADLOCK ***",
                            "",
                            " May be due to missing lock nesting notation",
                            ""};
  CHECK(slice(l, title + 9, scenario.size()) == scenario);
  check_held_and_backtrace(l, title + 9 + scenario.size(), "reboot",
                           {lock_line("&dev->mutex", "{+.+.}", "device_shutdown")});
  check_trace(trace_after(l, find_line(l, "Call Trace:", title)),
              {"lockdep::mutex::lock", "device_shutdown", "main"});
}

TEST_CASE("gallery_recursive_locking --annotated: mutex_lock_nested is silent", "[gallery]") {
  run_result run = run_program(GALLERY_RECURSIVE_LOCKING, "--annotated");
  check_silent(run);
  CHECK(run.lines.empty());
}

TEST_CASE("gallery_rwsem_inversion: read A / write B against read B / write A", "[gallery]") {
  run_result run = run_program(GALLERY_RWSEM_INVERSION);
  CHECK(run.exit_status == 1);
  const lines_t& l = run.lines;
  CHECK(count_reports(l) == 1);
  std::size_t title = check_banner(l, "WARNING: possible circular locking dependency detected", 54);
  REQUIRE(title + 7 < l.size());
  CHECK(matches(l[title + 3], R"(remap/\d+ is trying to acquire lock:)"));
  CHECK(matches(l[title + 4], lock_line("&mm->mmap_sem", "{++++}", "remap_ioctl")));
  CHECK(l[title + 6] == "but task is already holding lock:");
  CHECK(matches(l[title + 7], lock_line("&inode->i_rwsem", "{++++}", "remap_ioctl")));

  std::size_t step1 = find_line(l, "-> #1 (&inode->i_rwsem){++++}:", title);
  std::size_t step0 = find_line(l, "-> #0 (&mm->mmap_sem){++++}:", step1);
  REQUIRE(step0 < l.size());
  check_trace(trace_after(l, step1), {"lockdep::shared_mutex::lock", "fault_extends_file"});
  check_trace(trace_after(l, step0), {"lockdep::shared_mutex::lock", "remap_ioctl"});

  // The held side is a read: rlock().
  std::size_t other = find_line(l, "other info that might help us debug this:", step0);
  CHECK(slice(l, other, 13) == circular_scenario("rlock(&inode->i_rwsem);", "lock(&mm->mmap_sem);",
                                                 "lock(&mm->mmap_sem);", "lock(&inode->i_rwsem);"));
  check_held_and_backtrace(l, other + 13, "remap",
                           {lock_line("&inode->i_rwsem", "{++++}", "remap_ioctl")});
}

TEST_CASE("gallery_rwsem_inversion --recursive-read: a read-read cycle on rwlock_t is silent",
          "[gallery]") {
  run_result run = run_program(GALLERY_RWSEM_INVERSION, "--recursive-read");
  check_silent(run);
  CHECK(run.lines.empty());
}

TEST_CASE("gallery_reclaim_inversion: a lock across GFP_KERNEL, taken by a shrinker", "[gallery]") {
  run_result run = run_program(GALLERY_RECLAIM_INVERSION);
  CHECK(run.exit_status == 1);
  const lines_t& l = run.lines;
  CHECK(count_reports(l) == 1);
  std::size_t title = check_banner(l, "WARNING: possible circular locking dependency detected", 54);
  REQUIRE(title + 7 < l.size());
  CHECK(matches(l[title + 3], R"(kswapd0/\d+ is trying to acquire lock:)"));
  CHECK(matches(l[title + 4], lock_line("&sbi->s_es_lock", "{+.+.}", "es_scan")));
  CHECK(l[title + 6] == "but task is already holding lock:");
  CHECK(matches(l[title + 7], R"([0-9a-f]{16} \(fs_reclaim\)\{\+\.\+\.\}, at: .*)"));

  // #1: the insert's allocation under s_es_lock; #0: kswapd0 running the shrinker.
  std::size_t step1 = find_line(l, "-> #1 (fs_reclaim){+.+.}:", title);
  std::size_t step0 = find_line(l, "-> #0 (&sbi->s_es_lock){+.+.}:", step1);
  REQUIRE(step0 < l.size());
  check_trace(trace_after(l, step1),
              {"fs_reclaim_acquire", "__kmalloc", "es_cache_insert", "fill_cache", "main"});
  check_trace(trace_after(l, step0),
              {"lockdep::mutex::lock", "es_scan", "do_shrink_slab", "shrink_slab", "shrink_node",
               "balance_pgdat", "kswapd", "kthread", "ret_from_fork"});

  std::size_t other = find_line(l, "other info that might help us debug this:", step0);
  CHECK(slice(l, other, 13) == circular_scenario("lock(fs_reclaim);", "lock(&sbi->s_es_lock);",
                                                 "lock(&sbi->s_es_lock);", "lock(fs_reclaim);"));
  check_held_and_backtrace(l, other + 13, "kswapd0",
                           {R"([0-9a-f]{16} \(fs_reclaim\)\{\+\.\+\.\}, at: .*)",
                            R"([0-9a-f]{16} \(shrinker_rwsem\)\{\+\+\+\+\}, at: .*)"});
  CHECK(find_line(l, "kswapd0 shrank the extent cache from 128 to 0 entries") < l.size());
}

TEST_CASE("gallery_reclaim_inversion --nofs: NOFS allocations are silent", "[gallery]") {
  run_result run = run_program(GALLERY_RECLAIM_INVERSION, "--nofs");
  check_silent(run);
  // The shrinker did run on kswapd0, taking s_es_lock under fs_reclaim: only no cycle closed.
  CHECK(run.lines == lines_t{"kswapd0 shrank the extent cache from 128 to 0 entries"});
}

TEST_CASE("gallery_unlock_imbalance: the second unlock is reported and skipped", "[gallery]") {
  run_result run = run_program(GALLERY_UNLOCK_IMBALANCE);
  CHECK(run.exit_status == 1);
  const lines_t& l = run.lines;
  CHECK(count_reports(l) == 1);
  std::size_t title = check_banner(l, "WARNING: bad unlock balance detected!", 37);
  REQUIRE(title + 12 < l.size());
  CHECK(matches(l[title + 3], R"(widgetctl/\d+ is trying to release lock \(&priv->lock\) at:)"));
  CHECK(matches(l[title + 4], R"(\[<[0-9a-f]{16}>\] widget_set_mode\+0x[0-9a-f]+/0x[0-9a-f]+)"));
  CHECK(l[title + 5] == "but there are no more locks to release!");
  CHECK(l[title + 6].empty());
  CHECK(l[title + 7] == "other info that might help us debug this:");
  CHECK(matches(l[title + 8], R"(no locks held by widgetctl/\d+\.)"));
  CHECK(l[title + 9].empty());
  CHECK(l[title + 10] == "stack backtrace:");
  check_trace(trace_after(l, find_line(l, "Call Trace:", title)),
              {"lockdep::mutex::unlock", "widget_set_mode", "main"});
  // It carried on: the next call locked and unlocked the mutex as usual.
  CHECK(find_line(l, "widget_set_mode(-1) returned -22; mode is now 2") < l.size());
}

TEST_CASE("gallery_held_lock_freed: freeing an object whose lock is held", "[gallery]") {
  run_result run = run_program(GALLERY_HELD_LOCK_FREED);
  CHECK(run.exit_status == 1);
  const lines_t& l = run.lines;
  CHECK(count_reports(l) == 1);
  std::size_t title = check_banner(l, "WARNING: held lock freed!", 25);
  REQUIRE(title + 7 < l.size());
  std::smatch range;
  const std::string& freeing = l[title + 3];
  REQUIRE(std::regex_match(
      freeing, range,
      std::regex(R"(sessiond/\d+ is freeing memory ([0-9a-f]{16})-([0-9a-f]{16}), )"
                 R"(with a lock still held there!)")));
  CHECK(matches(l[title + 4], lock_line("&session->lock", "{+.+.}", "session_close")));
  // The held lock lies in the freed range.
  const std::string lock_address = l[title + 4].substr(0, 16);
  CHECK(range[1].str() <= lock_address);
  CHECK(lock_address <= range[2].str());
  check_held_and_backtrace(l, title + 5, "sessiond",
                           {lock_line("&session->lock", "{+.+.}", "session_close")});
  check_trace(trace_after(l, find_line(l, "Call Trace:", title)),
              {"session_put", "session_close", "main"});
}

TEST_CASE("gallery_thread_exit_with_locks: a thread ends holding a mutex", "[gallery]") {
  run_result run = run_program(GALLERY_THREAD_EXIT_WITH_LOCKS);
  CHECK(run.exit_status == 1);
  const lines_t& l = run.lines;
  CHECK(count_reports(l) == 1);
  // The title names the thread by comm/tid; the rules stay 36 wide whatever its length.
  std::size_t title = check_banner(l, R"(WARNING: jbd2/sda1-8/\d+ still has locks held!)", 36);
  check_held_and_backtrace(
      l, title + 3, "jbd2/sda1-8",
      {lock_line("&journal->j_checkpoint_mutex", "{+.+.}", "jbd2_log_do_checkpoint")});
  // The same task in the title, the held-locks line and the dump_stack line.
  std::smatch tid;
  REQUIRE(std::regex_match(l[title], tid, std::regex(R"(WARNING: jbd2/sda1-8/(\d+) still .*)")));
  CHECK(l[title + 3] == "1 lock held by jbd2/sda1-8/" + tid[1].str() + ":");
  CHECK(l[title + 7].starts_with("CPU: "));
  CHECK(l[title + 7].find(" PID: " + tid[1].str() + " Comm: jbd2/sda1-8 ") != std::string::npos);
}

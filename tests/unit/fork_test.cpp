// fork() while another thread is inside the validator (validating, symbolizing, delivering
// reports, learning new classes and dependencies): the child inherits every validator lock
// free, so it can lock, report and exit, or exec a new program that does.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/state.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

namespace {

// Keeps another thread in the validator's slow path until destroyed. Each round makes new lock
// classes, nests them (for each lock a new chain and a new dependency: the graph lock, a graph
// search and a stack capture) and destroys them (their classes, dependencies and chains are
// forgotten under the graph lock). It never inverts an order, so it never reports.
// Not copyable or movable.
class slow_path_churn {
 public:
  slow_path_churn() : thread_([this] { run(); }) {}
  ~slow_path_churn() {
    stop_ = true;
    thread_.join();
  }
  slow_path_churn(const slow_path_churn&) = delete;
  slow_path_churn& operator=(const slow_path_churn&) = delete;

  // Waits until `n` rounds are done, so the forks find it at work.
  void wait_for_rounds(std::size_t n) const {
    while (rounds_ < n) std::this_thread::yield();
  }
  std::size_t rounds() const { return rounds_; }

 private:
  void run() {
    while (!stop_) {
      std::deque<lockdep::mutex> locks;
      for (int i = 0; i < 6; ++i) locks.emplace_back("slow_path_churn");
      for (lockdep::mutex& lock : locks) lock.lock();
      for (auto lock = locks.rbegin(); lock != locks.rend(); ++lock) lock->unlock();
      ++rounds_;
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> rounds_{0};
  std::thread thread_;  // last: it starts running when constructed
};

// Exit statuses of a forked child; each names the step that went wrong.
enum child_status : int {
  child_ok = 0,
  child_no_report = 3,
  child_wrong_report = 4,
  child_wrong_snapshot = 5,
  child_threw = 6,
  child_exec_failed = 127,
};

// What a forked child does: locks, reports an inversion (to `capture`, the parent's, copied), and
// takes a snapshot (the graph lock and the threads' counters lock). Returns child_ok or the step
// that went wrong. No Catch2 assertions: in a child, a failing one would throw into the parent's
// copy of the test run.
int lock_and_report(const lockdep::testing::report_capture& capture) {
  try {
    lockdep::mutex x{"child_x"}, y{"child_y"};
    lockdep_test::lock_unlock_2(x, y);
    lockdep_test::lock_unlock_2(y, x);
    if (capture.count() != 1) return child_no_report;
    if (capture.only().cycle() != lockdep_test::names({"child_x", "child_y"})) {
      return child_wrong_report;
    }
    if (lockdep::snapshot().stats.reports != 1) return child_wrong_snapshot;
    return child_ok;
  } catch (...) {
    return child_threw;
  }
}

// Waits for the child; its exit status, or 128 + the signal that killed it.
int wait_for_child(pid_t child) {
  int status = 0;
  if (waitpid(child, &status, 0) != child) return -1;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// The name of the hidden test at the end of this file.
const char* const exec_child_test_name = "fork exec child: a new program locks and reports";

}  // namespace

TEST_CASE("a child forked while another thread reports can lock, report and exit", "[fork]") {
  lockdep::options keep_going = lockdep::current_options();
  keep_going.keep_going = true;
  lockdep::testing::report_capture capture(keep_going);
  std::atomic<bool> stop{false};
  std::thread reporter([&] {
    // New locks each time, kept until the thread ends: new classes (not reusing a freed lock's
    // address), so every inversion is a new report.
    std::vector<std::unique_ptr<lockdep::mutex>> locks;
    while (!stop) {
      lockdep::mutex* a = locks.emplace_back(std::make_unique<lockdep::mutex>()).get();
      lockdep::mutex* b = locks.emplace_back(std::make_unique<lockdep::mutex>()).get();
      lockdep_test::lock_unlock_2(*a, *b);
      lockdep_test::lock_unlock_2(*b, *a);
    }
  });
  while (capture.count() < 3) std::this_thread::yield();
  for (int i = 0; i < 20; ++i) {
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      alarm(10);  // a child stuck on an inherited lock dies of SIGALRM
      lockdep::mutex x, y;
      lockdep_test::lock_unlock_2(x, y);
      lockdep_test::lock_unlock_2(y, x);
      _exit(lockdep::report_count() > 0 ? 0 : 3);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    INFO("child " << i << " status " << status);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  stop = true;
  reporter.join();
}

TEST_CASE("children forked while another thread is in the slow path can lock, report and exit",
          "[fork]") {
  {
    // Once here first: it works without fork, and the symbolizer has read the debug
    // information the report needs, which the children inherit instead of each reading it.
    lockdep::testing::report_capture warm_up;
    REQUIRE(lock_and_report(warm_up) == child_ok);
  }
  lockdep::testing::report_capture capture;
  {
    slow_path_churn churn;
    churn.wait_for_rounds(10);
    for (int i = 0; i < 200; ++i) {
      pid_t child = fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        alarm(10);  // a child stuck on an inherited lock dies of SIGALRM
        _exit(lock_and_report(capture));
      }
      INFO("child " << i << " after " << churn.rounds() << " slow-path rounds");
      CHECK(wait_for_child(child) == child_ok);
    }
  }
  // The children's reports stayed in the children; the parent's thread never reported.
  CHECK(capture.empty());
  CHECK(lockdep::validation_enabled());
}

TEST_CASE("children forked while another thread is in the slow path can exec a program that locks",
          "[fork]") {
  lockdep::testing::report_capture capture;
  slow_path_churn churn;
  churn.wait_for_rounds(10);
  // Few rounds: each starts this test binary anew, which takes a while under a sanitizer.
  for (int i = 0; i < 5; ++i) {
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      alarm(30);  // kept across exec: a hang in the new program kills it
      // Its Catch2 summary would clutter this test's output, and its exit status says whether
      // it passed (run the hidden test by name to see why not).
      int quiet = open("/dev/null", O_WRONLY);
      if (quiet >= 0) dup2(quiet, STDOUT_FILENO);
      // This test binary again, running only the hidden test below; --warn NoTests makes a
      // name that matches nothing fail instead of passing.
      execl("/proc/self/exe", "lockdep_tests", exec_child_test_name, "--warn", "NoTests", nullptr);
      _exit(child_exec_failed);
    }
    INFO("child " << i << " after " << churn.rounds() << " slow-path rounds");
    CHECK(wait_for_child(child) == 0);
  }
  CHECK(capture.empty());
}

// Run only by the test above, in a process exec'd from a forked child: a new program whose
// validator starts from scratch and works.
TEST_CASE("fork exec child: a new program locks and reports", "[.][fork_exec_child]") {
  lockdep::testing::report_capture capture;
  lockdep::mutex x{"exec_x"}, y{"exec_y"};
  lockdep_test::lock_unlock_2(x, y);
  lockdep_test::lock_unlock_2(y, x);
  REQUIRE(capture.count() == 1);
  CHECK(capture.only().cycle() == lockdep_test::names({"exec_x", "exec_y"}));
}

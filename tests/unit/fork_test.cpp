// fork() while another thread is inside the validator (validating, symbolizing, delivering
// reports): the child inherits every validator lock free, so it can lock, report and exit.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "scenario_helpers.hpp"

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

// A program that ends while a report is being delivered, in one of four ways (the argument):
//   (none)       main returns while another thread is still delivering: a subscription sees
//                the report, lets main go, keeps the delivery busy a little longer, as a slow
//                listener or a loaded machine would, and then prints "listener done";
//   fail-fast    the subscription calls exit(3), as a test harness that stops at the first
//                report would;
//   fail-fast-2  the same while a second thread's report waits for the subscription (run with
//                keep_going=1): the exit must not wait for that one;
//   fail-fast-static  a static subscription calls exit(3), which destroys that subscription on
//                the thread that is calling it.
// The first report must be printed in full each time, and the subscription must finish.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/report_subscription.hpp"

using namespace std::chrono_literals;

namespace {

lockdep::mutex first{"exit_first"}, second{"exit_second"};
lockdep::mutex third{"exit_third"}, fourth{"exit_fourth"};
std::atomic<bool> seen{false};
lockdep::report_subscription* watching = nullptr;

// Takes `a` then `b`, then `b` then `a`: an inversion, reported at the second `a`.
void invert(lockdep::mutex& a, lockdep::mutex& b) {
  {
    std::lock_guard outer(a);
    std::lock_guard inner(b);
  }
  std::lock_guard outer(b);
  std::lock_guard inner(a);
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "fail-fast-static") {
    // Destroyed by the exit its own callback makes, on the thread calling the listeners.
    static lockdep::report_subscription watch([](const lockdep::report&) { std::exit(3); });
    invert(first, second);
    return 0;
  }
  // Never destroyed: destroying it would wait for the callback, which is not what a program
  // that exits from another thread does. Kept in a global, so leak checkers see it reachable.
  watching = new lockdep::report_subscription([mode](const lockdep::report&) {
    if (mode == "fail-fast") std::exit(3);
    seen = true;
    if (mode == "fail-fast-2") {
      // The second report is issued, and its delivery waits for this callback.
      for (int waited = 0; lockdep::report_count() < 2 && waited < 500; ++waited) {
        std::this_thread::sleep_for(10ms);
      }
      std::this_thread::sleep_for(100ms);
      std::exit(3);
    }
    std::this_thread::sleep_for(300ms);
    std::puts("listener done");  // lost if the exit does not wait for this delivery
    std::fflush(stdout);
  });
  std::thread(invert, std::ref(first), std::ref(second)).detach();
  while (!seen) std::this_thread::sleep_for(1ms);
  if (mode == "fail-fast-2") {
    std::thread(invert, std::ref(third), std::ref(fourth)).join();
    std::this_thread::sleep_for(10s);  // the subscription exits long before
  }
  return 0;
}

// A program that ends while a report is being delivered. By default main returns while another
// thread is still delivering: a subscription sees the report, lets main go, and keeps the
// delivery busy a little longer, as a slow symbolization or a loaded machine would. With the
// argument "fail-fast" the subscription itself calls exit(3), as a test harness that stops at
// the first report would. Either way the report must be printed in full.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/report_subscription.hpp"

using namespace std::chrono_literals;

namespace {

lockdep::mutex first{"exit_first"}, second{"exit_second"};
std::atomic<bool> seen{false};

}  // namespace

int main(int argc, char** argv) {
  bool fail_fast = argc > 1 && std::string_view(argv[1]) == "fail-fast";
  // Never destroyed: destroying it would wait for the callback, which is not what a program
  // that exits from another thread does.
  new lockdep::report_subscription([fail_fast](const lockdep::report&) {
    if (fail_fast) std::exit(3);
    seen = true;
    std::this_thread::sleep_for(300ms);
  });
  std::thread inverter([] {
    {
      std::lock_guard a(first);
      std::lock_guard b(second);
    }
    std::lock_guard b(second);
    std::lock_guard a(first);
  });
  inverter.detach();
  while (!seen) std::this_thread::sleep_for(1ms);
  return 0;
}

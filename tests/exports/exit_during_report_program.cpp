// A program that returns from main while another thread is still delivering a report: a
// subscription sees the report, lets main go, and keeps the delivery busy a little longer, as
// a slow symbolization or a loaded machine would. The report must still be printed in full.
#include <atomic>
#include <chrono>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/report_subscription.hpp"

using namespace std::chrono_literals;

namespace {

lockdep::mutex first{"exit_first"}, second{"exit_second"};
std::atomic<bool> seen{false};

}  // namespace

int main() {
  // Never destroyed: destroying it would wait for the callback, which is not what a program
  // that exits from another thread does.
  new lockdep::report_subscription([](const lockdep::report&) {
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

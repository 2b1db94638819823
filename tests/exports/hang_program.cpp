// A program for the hang watchdog's process test: one thread holds a global lock for 1.5 s
// while another waits for it. With LOCKDEP_OPTIONS=hang_timeout=1 the wait is reported; the
// program then finishes normally, its global locks destroyed after main returns, with the
// watchdog thread still running.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "lockdep/lockdep.hpp"

using namespace std::chrono_literals;

namespace {

lockdep::mutex outer{"hang_outer"}, held{"hang_held"};

}  // namespace

int main() {
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    pthread_setname_np(pthread_self(), "holder");
    std::lock_guard guard(held);
    holding = true;
    std::this_thread::sleep_for(1500ms);
  });
  while (!holding) std::this_thread::sleep_for(1ms);
  std::thread waiter([] {
    pthread_setname_np(pthread_self(), "waiter");
    std::lock_guard first(outer);
    std::lock_guard second(held);
  });
  holder.join();
  waiter.join();
  return 0;
}

// A program for the hang watchdog's process test: one thread holds a global lock while another
// waits for it. With LOCKDEP_OPTIONS=hang_timeout=1 the wait is reported, and the holder lets go
// once it has been (a fixed hold could end before a loaded machine's watchdog looks); without
// it, the holder lets go after 1.5 s. The program then finishes normally, its global locks
// destroyed after main returns, with the watchdog thread still running.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report_subscription.hpp"

using namespace std::chrono_literals;

namespace {

lockdep::mutex outer{"hang_outer"}, held{"hang_held"};

}  // namespace

int main() {
  std::atomic<bool> holding{false};
  std::atomic<bool> reported{false};
  lockdep::report_subscription watch([&](const lockdep::report&) { reported = true; });
  bool watched = lockdep::current_options().hang_timeout > 0;
  std::thread holder([&] {
    pthread_setname_np(pthread_self(), "holder");
    std::lock_guard guard(held);
    holding = true;
    auto until = std::chrono::steady_clock::now() + (watched ? 30s : 1500ms);
    while (!(watched && reported) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
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

// A program for the hang watchdog's process test: one thread holds a global lock while another
// waits for it. With LOCKDEP_OPTIONS=hang_timeout=1 the wait is reported, and the holder lets go
// once it has been (a fixed hold could end before a loaded machine's watchdog looks); without
// it, the holder lets go after 1.5 s. The program then finishes normally, its global locks
// destroyed after main returns, with the watchdog thread still running.
//
// With the argument "first_lock", the lock the holder takes is the process's first: the holder
// never waits, and must still be listed with it.
//
// With the argument "fork", the same runs in a child forked while another thread of the parent
// waits on a lock: the child, which has neither the parent's watchdog thread nor that thread,
// must report its own hang, and only that one. The parent exits with the child's status.
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "lockdep/lockdep.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report_subscription.hpp"

using namespace std::chrono_literals;

namespace {

lockdep::mutex outer{"hang_outer"}, held{"hang_held"};

int run_hang() {
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

lockdep::mutex parent_held{"hang_parent_held"};
lockdep::mutex first_held{"hang_first_held"};

// The holder takes the process's first lock (the validator starts, and arms the watchdog, in
// that very call) and keeps it until the waiter's hang is reported.
int run_hang_on_first_lock() {
  std::atomic<bool> holding{false};
  std::atomic<bool> reported{false};
  std::thread holder([&] {
    pthread_setname_np(pthread_self(), "holder");
    std::lock_guard guard(first_held);
    holding = true;
    auto until = std::chrono::steady_clock::now() + 30s;
    while (!reported && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(10ms);
    }
  });
  while (!holding) std::this_thread::sleep_for(1ms);
  lockdep::report_subscription watch([&](const lockdep::report&) { reported = true; });
  std::thread waiter([] {
    pthread_setname_np(pthread_self(), "waiter");
    std::lock_guard first(outer);
    std::lock_guard second(first_held);
  });
  holder.join();
  waiter.join();
  return 0;
}

// Whether thread `tid` of this process is asleep (state S in its /proc stat line).
bool sleeping(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::size_t after_name = line.rfind(')');
  return after_name != std::string::npos && line.compare(after_name + 1, 3, " S ") == 0;
}

// Forks while a thread of the parent waits on parent_held, and runs the scenario in the child.
int run_hang_in_child() {
  parent_held.lock();
  std::atomic<pid_t> waiter_tid{0};
  std::thread parent_waiter([&waiter_tid] {
    pthread_setname_np(pthread_self(), "parent_waiter");
    waiter_tid = gettid();
    std::lock_guard guard(parent_held);
  });
  while (waiter_tid == 0) std::this_thread::sleep_for(1ms);
  for (int waited = 0; !sleeping(waiter_tid) && waited < 500; ++waited) {
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(50ms);  // asleep in the lock, not on its way there
  pid_t child = fork();
  if (child == 0) std::_Exit(run_hang());
  parent_held.unlock();
  parent_waiter.join();
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "fork") return run_hang_in_child();
  if (argc > 1 && std::string_view(argv[1]) == "first_lock") return run_hang_on_first_lock();
  return run_hang();
}

// A program for the LOCKDEP_OPTIONS dump tests: makes a lock-order cycle (reported), then exits
// (the exit dumps), or, with `signal FILE`, sends itself its dump signal and waits, still
// running, until the dump appears in FILE, as a hung program would be asked for one. The locks
// are global: a lock destroyed before the exit dump takes its class with it (as the kernel
// forgets the classes of freed keys), and these must be in it.
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "lockdep/lockdep.hpp"

namespace {

lockdep::mutex a{"exports_a"}, b{"exports_b"};

void lock_both(lockdep::mutex& first, lockdep::mutex& second) {
  std::lock_guard outer(first);
  std::lock_guard inner(second);
}

bool has_content(const char* path) {
  struct stat status {};
  return stat(path, &status) == 0 && status.st_size > 0;
}

}  // namespace

int main(int argc, char** argv) {
  lock_both(a, b);
  lock_both(b, a);
  if (argc == 3 && std::string(argv[1]) == "signal") {
    std::raise(SIGUSR2);
    for (int waited = 0; waited < 1000; ++waited) {
      if (has_content(argv[2])) {
        std::puts("dumped while running");
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::puts("no dump within 10 s");
    return 1;
  }
  return 0;
}

// A program for the LOCKDEP_OPTIONS dump tests: makes a lock-order cycle (reported), then exits
// (the exit dumps), or, with `signal FILE`, sends itself its dump signal and waits, still
// running, until the dump appears in FILE, as a hung program would be asked for one. With
// `fork-signal DIR`, a forked child does the same with a lock class of its own, waiting for
// DIR/dump-<child pid>.txt (run with dump_path=DIR/dump-%p.txt), and the parent exits with the
// child's status. With `signal-watch FILE`, it makes a few thousand classes (a dump of a few
// hundred KiB), signals for dump after dump, and reads FILE all the while: every read must be
// a whole dump. The locks are global: a lock destroyed before the exit dump takes its class
// with it (as the kernel forgets the classes of freed keys), and these must be in it.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

// Raises the dump signal and waits up to 10 s for `path` to be written.
int dump_while_running(const std::string& path) {
  std::raise(SIGUSR2);
  for (int waited = 0; waited < 1000; ++waited) {
    if (has_content(path.c_str())) {
      std::puts("dumped while running");
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::puts("no dump within 10 s");
  return 1;
}

// What a reader finds at `path`: nothing yet, a whole dump (it ends with the stats' last
// line), or part of one.
enum class dump_seen { none, whole, partial };

dump_seen read_dump(const std::string& path) {
  std::ifstream file(path);
  if (!file) return dump_seen::none;
  std::stringstream text;
  text << file.rdbuf();
  const std::string content = text.str();
  const std::string last_line = " debug_locks:";
  std::size_t at = content.rfind('\n', content.size() >= 2 ? content.size() - 2 : 0);
  std::string tail = at == std::string::npos ? content : content.substr(at + 1);
  return tail.rfind(last_line, 0) == 0 && content.back() == '\n' ? dump_seen::whole
                                                                  : dump_seen::partial;
}

int dump_while_watching(const std::string& path) {
  // Classes enough to make each dump take many writes.
  std::vector<std::unique_ptr<lockdep::mutex>> many;
  for (int i = 0; i < 3000; ++i) {
    many.push_back(std::make_unique<lockdep::mutex>());
    std::lock_guard guard(*many.back());
  }
  std::atomic<bool> done{false};
  int whole = 0;
  int partial = 0;
  std::thread reader([&] {
    while (!done.load()) {
      dump_seen seen = read_dump(path);
      whole += seen == dump_seen::whole;
      partial += seen == dump_seen::partial;
    }
  });
  for (int signal = 0; signal < 40; ++signal) {
    std::raise(SIGUSR2);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  done.store(true);
  reader.join();
  std::printf("read %d whole dumps and %d partial ones\n", whole, partial);
  return whole > 0 && partial == 0 ? 0 : 1;
}

int dump_in_child(const std::string& dir) {
  std::fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    static lockdep::mutex child_only{"exports_child_only"};
    { std::lock_guard guard(child_only); }
    int status = dump_while_running(dir + "/dump-" + std::to_string(getpid()) + ".txt");
    std::fflush(stdout);
    std::_Exit(status);  // not exit(): the dumps at exit would write the child's file too
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  lock_both(a, b);
  lock_both(b, a);
  if (argc == 3 && std::string(argv[1]) == "signal") return dump_while_running(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "signal-watch") return dump_while_watching(argv[2]);
  if (argc == 3 && std::string(argv[1]) == "fork-signal") return dump_in_child(argv[2]);
  return 0;
}

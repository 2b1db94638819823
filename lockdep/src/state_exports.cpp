// Writing the state dumps LOCKDEP_OPTIONS asks for (dump_path, graph_dot_path,
// graph_json_path): at exit, and whenever dump_signal arrives.
//
// A signal handler may do almost nothing safely (taking the graph lock or allocating there
// could deadlock with the thread it interrupted), so the handler writes one byte to a pipe and
// a thread of ours, started only when dump_signal is set (and again in a fork child), does the
// writing.
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lockdep/state.hpp"
#include "report_output.hpp"
#include "state_exports.hpp"
#include "validator_core.hpp"

namespace lockdep::detail {
namespace {

int signal_pipe[2] = {-1, -1};

// Replaces the regular file at `final_path` (or creates it) with `text` whole: written into a
// file beside it, then renamed over it, so that a reader (a tool watching the dump, or a
// program waiting for the one its signal asked for) sees the previous file or the new one,
// never one half written. Each write has a file of its own, so a signal's dump and the exit
// dump may run at once. False, having changed nothing, when the path is something else (a
// device, a pipe, a symbolic link) or no file can be made beside it.
bool replace_whole(const std::string& final_path, const std::string& text) {
  struct stat existing {};
  if (lstat(final_path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) return false;
  static std::atomic<unsigned> writes{0};
  const std::string partial = final_path + ".partial-" + std::to_string(getpid()) + "-" +
                              std::to_string(writes.fetch_add(1, std::memory_order_relaxed));
  std::FILE* file = std::fopen(partial.c_str(), "w");
  if (file == nullptr) return false;
  bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  written = std::fclose(file) == 0 && written;
  if (written && std::rename(partial.c_str(), final_path.c_str()) == 0) return true;
  std::remove(partial.c_str());
  return false;
}

void write_text(const std::string& path, const std::string& text, const char* what) {
  if (path != "stderr" && path != "stdout" && replace_whole(with_process_id(path), text)) return;
  // stderr, stdout, a device or a pipe, or a place where the whole-file write failed: straight
  // to the path, as it is.
  std::FILE* file = open_output(path, "w", what);
  if (file == nullptr) return;
  std::fwrite(text.data(), 1, text.size(), file);
  close_output(file);
}

void on_dump_signal(int) {
  int saved = errno;  // the interrupted code may be about to read errno
  char wake = 1;
  [[maybe_unused]] ssize_t written = write(signal_pipe[1], &wake, 1);
  errno = saved;
}

void* dump_on_signal(void*) {
  pthread_setname_np(pthread_self(), "lockdep-dump");
  while (true) {
    char wake;
    ssize_t got = read(signal_pipe[0], &wake, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return nullptr;
    write_state_exports(core().config);
  }
}

bool start_pipe_reader() {
  pthread_t thread;
  if (pthread_create(&thread, nullptr, dump_on_signal, nullptr) != 0) {
    std::fprintf(stderr, "lockdep: cannot start the dump_signal thread; ignored\n");
    return false;
  }
  pthread_detach(thread);
  return true;
}

void start_signal_thread(int signal) {
  if (pipe(signal_pipe) != 0) {
    std::fprintf(stderr, "lockdep: cannot create a pipe for dump_signal (%s); ignored\n",
                 std::strerror(errno));
    return;
  }
  if (!start_pipe_reader()) return;
  struct sigaction action {};
  action.sa_handler = on_dump_signal;
  action.sa_flags = SA_RESTART;  // the program's interrupted system calls carry on
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
}

}  // namespace

void restart_dump_thread_in_child() {
  if (signal_pipe[0] < 0) return;  // no dump_signal
  // The new pipe takes the old one's descriptors, so a signal arriving meanwhile writes to one
  // pipe or the other, never to a closed descriptor.
  int fresh[2];
  if (pipe(fresh) != 0) return;  // the child's signal then wakes the parent's thread, as before
  dup2(fresh[0], signal_pipe[0]);
  dup2(fresh[1], signal_pipe[1]);
  close(fresh[0]);
  close(fresh[1]);
  start_pipe_reader();
}

bool wants_state_exports(const options& configured) {
  return !configured.dump_path.empty() || !configured.graph_dot_path.empty() ||
         !configured.graph_json_path.empty();
}

void write_state_exports(const options& configured) {
  if (!wants_state_exports(configured)) return;
  validator_state state = snapshot();
  if (!configured.dump_path.empty()) {
    write_text(
        configured.dump_path,
        proc_lockdep(state) + "\n" + proc_lockdep_chains(state) + "\n" + proc_lockdep_stats(state),
        "dump_path");
  }
  if (!configured.graph_dot_path.empty()) {
    write_text(configured.graph_dot_path, graph_dot(state), "graph_dot_path");
  }
  if (!configured.graph_json_path.empty()) {
    write_text(configured.graph_json_path, graph_json(state), "graph_json_path");
  }
}

void install_state_exports(const options& configured) {
  if (!wants_state_exports(configured)) return;
  std::atexit([] { write_state_exports(core().config); });
  if (configured.dump_signal != 0) start_signal_thread(configured.dump_signal);
}

}  // namespace lockdep::detail

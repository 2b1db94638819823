// lockdep-run [--graph FILE] [--graph-json FILE] [--dump FILE] [--json-log FILE] PROGRAM [ARGS...]:
// runs PROGRAM with the lock validator preloaded; the flags add the LOCKDEP_OPTIONS entries
// graph_dot_path, graph_json_path, dump_path and json_log_path for it.
//
// Sets LD_PRELOAD to the absolute path of liblockdep_preload.so (found relative to this
// launcher: ../lib in the build tree, the library directory once installed) and of
// liblockdep_free_watch.so beside it (unless LOCKDEP_OPTIONS has watch_frees=0; any LD_PRELOAD
// already set comes after them), runs the program as a child, and exits with:
//   - the program's own status when no report was printed;
//   - LOCKDEP_OPTIONS exitcode (default 66) when a report was printed in the program or in a
//     process it started, and the program exited with 0; a non-zero status is kept, as it is
//     more specific than "lockdep reported";
//   - when the program was killed by a signal, the same signal (the launcher kills itself with
//     it, so shells and `timeout` see what they would have seen), or 128 + signal if it
//     survives; 127 when PROGRAM cannot be found, 126 when it cannot be executed.
// How it learns about reports: see launcher_protocol.hpp. Signals sent to the launcher with
// kill() (SIGTERM from `timeout`, for instance) are passed on to the program; terminal signals
// (^C) already reach the program through its process group, so they are not sent twice.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "launcher_protocol.hpp"
#include "preload_options.hpp"

namespace {

volatile sig_atomic_t child_pid = 0;

constexpr int forwarded_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM};

void forward_signal(int signal, siginfo_t* info, void*) {
  // Signals from the terminal (si_code SI_KERNEL) reached the program's process group already.
  if (child_pid > 0 && info->si_code <= 0) kill(child_pid, signal);
}

[[noreturn]] void fail(int status, const std::string& message) {
  fprintf(stderr, "lockdep-run: %s\n", message.c_str());
  exit(status);
}

// The preload library's absolute path, looked up from this executable's directory.
std::string preload_library() {
  char self[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) fail(127, "cannot find my own executable (/proc/self/exe)");
  self[length] = '\0';
  std::string directory(self);
  directory.erase(directory.rfind('/'));
  for (const char* relative : {LOCKDEP_PRELOAD_BUILD_PATH, LOCKDEP_PRELOAD_INSTALL_PATH}) {
    char absolute[PATH_MAX];
    if (realpath((directory + "/" + relative).c_str(), absolute) != nullptr) return absolute;
  }
  fail(127, "cannot find the preload library at " + directory +
                "/" LOCKDEP_PRELOAD_BUILD_PATH " or " + directory +
                "/" LOCKDEP_PRELOAD_INSTALL_PATH);
}

// liblockdep_free_watch.so, installed beside the preload library.
std::string free_watch_library(const std::string& preload) {
  std::string watch = preload.substr(0, preload.rfind('/') + 1) + LOCKDEP_FREE_WATCH_NAME;
  if (access(watch.c_str(), R_OK) != 0) fail(127, "cannot find " + watch);
  return watch;
}

std::string make_report_file() {
  const char* directory = getenv("TMPDIR");
  std::string name =
      std::string(directory != nullptr && directory[0] != '\0' ? directory : "/tmp") +
      "/lockdep-run.XXXXXX";
  int file = mkstemp(name.data());
  if (file < 0) fail(127, "cannot create a file in " + name + ": " + strerror(errno));
  close(file);
  return name;
}

bool report_printed(const std::string& report_file) {
  struct stat status {};
  return stat(report_file.c_str(), &status) == 0 && status.st_size > 0;
}

[[noreturn]] void die_like(int signal) {
  // No second core dump: the program already dumped one if it was going to.
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigaction(signal, &default_action, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signal);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  raise(signal);
  exit(128 + signal);
}

// The launcher's own options, each a shorthand for a LOCKDEP_OPTIONS entry: the text to add to
// LOCKDEP_OPTIONS, or an error. `argv[*next]` is the first argument not taken.
struct launcher_flag {
  const char* name;
  const char* option;
};
constexpr launcher_flag launcher_flags[] = {
    {"--graph", "graph_dot_path"},
    {"--graph-json", "graph_json_path"},
    {"--dump", "dump_path"},
    {"--json-log", "json_log_path"},
};

std::string take_launcher_flags(int argc, char** argv, int* next) {
  std::string added;
  int at = 1;
  while (at < argc && argv[at][0] == '-' && strcmp(argv[at], "-h") != 0 &&
         strcmp(argv[at], "--help") != 0) {
    if (strcmp(argv[at], "--") == 0) {
      ++at;
      break;
    }
    const launcher_flag* known = nullptr;
    for (const launcher_flag& flag : launcher_flags) {
      if (strcmp(argv[at], flag.name) == 0) known = &flag;
    }
    if (known == nullptr) fail(2, std::string("unknown option ") + argv[at] + " (see --help)");
    if (at + 1 >= argc) fail(2, std::string(known->name) + " needs a file name");
    const char* path = argv[at + 1];
    // LOCKDEP_OPTIONS separates its entries with ':'.
    if (strchr(path, ':') != nullptr) fail(2, std::string(known->name) + ": ':' in " + path);
    added += std::string(":") + known->option + "=" + path;
    at += 2;
  }
  *next = at;
  return added;
}

}  // namespace

int main(int argc, char** argv) {
  int program_at = 1;
  std::string added_options = take_launcher_flags(argc, argv, &program_at);
  if (program_at >= argc || strcmp(argv[program_at], "--help") == 0 ||
      strcmp(argv[program_at], "-h") == 0) {
    bool asked = program_at < argc;
    fprintf(asked ? stdout : stderr,
            "usage: lockdep-run [--graph FILE.dot] [--graph-json FILE] [--dump FILE]\n"
            "                   [--json-log FILE] [--] PROGRAM [ARGS...]\n"
            "Runs PROGRAM with the lock validator preloaded (liblockdep_preload.so). Exit status:\n"
            "the program's, or LOCKDEP_OPTIONS exitcode (default %d) if a report was printed and\n"
            "the program exited with 0. --graph, --graph-json and --dump write the dependency\n"
            "graph (DOT, JSON) and /proc/lockdep-style dumps at exit, --json-log the reports as\n"
            "JSON lines; %%p in a name is the process id. Options: LOCKDEP_OPTIONS=key=value:...\n"
            "(see README).\n",
            lockdep::preload::default_exitcode);
    return asked ? 0 : 2;
  }
  argv += program_at - 1;  // argv[1] is the program from here on
  const char* options_text = getenv("LOCKDEP_OPTIONS");
  // The preload library prints any error in these options; the launcher only needs the value.
  const lockdep::preload::preload_options preload_options =
      lockdep::preload::read_preload_options(options_text != nullptr ? options_text : "");
  int exitcode = preload_options.exitcode;

  std::string library = preload_library();
  // The deallocation interposers come right after the validator, before any allocator the
  // program brings (freed_memory.hpp).
  if (preload_options.watch_frees) library += ":" + free_watch_library(library);
  std::string report_file = make_report_file();

  struct sigaction forward {};
  forward.sa_sigaction = forward_signal;
  forward.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&forward.sa_mask);
  for (int signal : forwarded_signals) sigaction(signal, &forward, nullptr);

  pid_t child = fork();
  if (child < 0) fail(127, std::string("fork: ") + strerror(errno));
  if (child == 0) {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signal : forwarded_signals) sigaction(signal, &default_action, nullptr);
    const char* existing = getenv("LD_PRELOAD");
    std::string preload = library;
    if (existing != nullptr && existing[0] != '\0') preload += std::string(":") + existing;
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv(lockdep::preload::report_file_variable, report_file.c_str(), 1);
    if (!added_options.empty()) {
      std::string all = options_text != nullptr ? options_text : "";
      setenv("LOCKDEP_OPTIONS", (all + added_options).c_str(), 1);
    }
    execvp(argv[1], argv + 1);
    int error = errno;
    fprintf(stderr, "lockdep-run: cannot run %s: %s\n", argv[1], strerror(error));
    _exit(error == ENOENT ? 127 : 126);
  }
  child_pid = child;

  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail(127, std::string("waitpid: ") + strerror(errno));
  }
  bool reported = report_printed(report_file);
  unlink(report_file.c_str());

  if (WIFSIGNALED(status)) die_like(WTERMSIG(status));
  int program_status = WIFEXITED(status) ? WEXITSTATUS(status) : 127;
  return reported && program_status == 0 ? exitcode : program_status;
}

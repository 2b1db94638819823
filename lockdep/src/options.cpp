#include "lockdep/options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace lockdep {
namespace {

bool parse_bool(std::string_view text, bool& into) {
  if (text == "1" || text == "true" || text == "yes") return into = true, true;
  if (text == "0" || text == "false" || text == "no") return into = false, true;
  return false;
}

bool parse_size(std::string_view text, std::size_t& into) {
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value == 0) return false;
  into = value;
  return true;
}

// A signal number, or a name with or without its SIG prefix; only signals a program can catch
// and that do not mean a fault.
bool parse_signal(std::string_view text, int& into) {
  static constexpr struct {
    std::string_view name;
    int number;
  } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"USR1", SIGUSR1},
               {"USR2", SIGUSR2}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
               {"CONT", SIGCONT}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR}};
  if (text.starts_with("SIG")) text.remove_prefix(3);
  for (const auto& known : names) {
    if (text == known.name) return into = known.number, true;
  }
  int number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc{} || end != text.data() + text.size()) return false;
  bool catchable = number >= 1 && number <= SIGRTMAX && number != SIGKILL && number != SIGSTOP;
  bool fault = number == SIGSEGV || number == SIGBUS || number == SIGFPE || number == SIGILL ||
               number == SIGABRT || number == SIGTRAP || number == SIGSYS;
  if (!catchable || fault) return false;
  into = number;
  return true;
}

// Applies one key=value; an error message, or empty on success.
std::string apply(std::string_view key, std::string_view value, options& into) {
  struct size_option {
    std::string_view key;
    std::size_t options::*field;
  };
  static constexpr size_option sizes[] = {
      {"max_lock_depth", &options::max_lock_depth},
      {"max_classes", &options::max_classes},
      {"max_dependencies", &options::max_dependencies},
      {"max_chains", &options::max_chains},
      {"max_chain_hlocks", &options::max_chain_hlocks},
      {"max_stack_entries", &options::max_stack_entries},
      {"stack_depth", &options::stack_depth},
  };
  struct bool_option {
    std::string_view key;
    bool options::*field;
  };
  static constexpr bool_option flags[] = {
      {"keep_going", &options::keep_going},
      {"abort_on_assert", &options::abort_on_assert},
      {"source_locations", &options::source_locations},
      {"absolute_paths", &options::absolute_paths},
      {"std_frames", &options::std_frames},
  };
  for (const bool_option& option : flags) {
    if (key != option.key) continue;
    return parse_bool(value, into.*option.field) ? "" : "expects 0 or 1";
  }
  if (key == "source_root") {
    if (value.empty() || value.front() != '/') return "expects an absolute directory";
    into.source_root = value;
    while (into.source_root.size() > 1 && into.source_root.back() == '/') {
      into.source_root.pop_back();
    }
    return "";
  }
  if (key == "log_path") {
    if (value.empty()) return "expects a path, stderr or stdout";
    into.log_path = value;
    return "";
  }
  struct path_option {
    std::string_view key;
    std::string options::*field;
  };
  static constexpr path_option paths[] = {
      {"json_log_path", &options::json_log_path},
      {"suppressions", &options::suppressions},
      {"dump_path", &options::dump_path},
      {"graph_dot_path", &options::graph_dot_path},
      {"graph_json_path", &options::graph_json_path},
  };
  for (const path_option& option : paths) {
    if (key != option.key) continue;
    if (value.empty()) return "expects a path, stderr or stdout";
    into.*option.field = value;
    return "";
  }
  if (key == "hang_timeout") {
    double seconds = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error != std::errc{} || end != value.data() + value.size() || !(seconds >= 0) ||
        seconds > 1e6) {
      return "expects seconds (0 to turn the watchdog off)";
    }
    into.hang_timeout = seconds;
    return "";
  }
  if (key == "dump_signal") {
    return parse_signal(value, into.dump_signal)
               ? ""
               : "expects a signal a program can catch (a number, or a name such as SIGUSR2)";
  }
  for (const size_option& option : sizes) {
    if (key != option.key) continue;
    if (!parse_size(value, into.*option.field)) return "expects a positive integer";
    if (key == "max_lock_depth" && into.max_lock_depth > options::lock_depth_ceiling) {
      into.max_lock_depth = options::lock_depth_ceiling;
      return fmt::format("is capped at {}", options::lock_depth_ceiling);
    }
    return "";
  }
  return "is not a known option";
}

}  // namespace

std::vector<option_error> parse_options(std::string_view text, options& into) {
  std::vector<option_error> errors;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(':', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    if (!entry.empty()) {
      std::size_t equals = entry.find('=');
      if (equals == std::string_view::npos) {
        errors.push_back({start, fmt::format("'{}' is not key=value", entry)});
      } else {
        std::string_view key = entry.substr(0, equals);
        std::string message = apply(key, entry.substr(equals + 1), into);
        if (!message.empty()) {
          errors.push_back({start, fmt::format("'{}' {}", key, message)});
        }
      }
    }
    start = end + 1;
  }
  return errors;
}

void anchor_paths(options& configured, const std::string& directory) {
  if (directory.empty()) return;
  auto anchor = [&directory](std::string& path) {
    if (path.empty() || path.front() == '/' || path == "stderr" || path == "stdout") return;
    path = directory + (directory.back() == '/' ? "" : "/") + path;
  };
  for (std::string* path :
       {&configured.log_path, &configured.json_log_path, &configured.suppressions,
        &configured.dump_path, &configured.graph_dot_path, &configured.graph_json_path}) {
    anchor(*path);
  }
  if (configured.source_root.empty()) configured.source_root = directory;
}

const options& current_options() {
  // Never destroyed: a lock in static storage destroyed at exit may be the first to ask for
  // the validator, after this function's statics would have gone.
  static const options* const parsed = [] {
    auto* read_into = new options;
    options& read = *read_into;
    const char* text = std::getenv("LOCKDEP_OPTIONS");
    if (text != nullptr) {
      for (const option_error& error : parse_options(text, read)) {
        std::fprintf(stderr, "lockdep: LOCKDEP_OPTIONS at offset %zu: %s; ignored\n",
                     error.position, error.message.c_str());
      }
    }
    // Read while the program starts, before a daemon's chdir("/") could change it.
    char directory[4096];
    if (getcwd(directory, sizeof directory) != nullptr) anchor_paths(read, directory);
    return read_into;
  }();
  return *parsed;
}

}  // namespace lockdep

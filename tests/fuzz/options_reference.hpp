// A reference reading of LOCKDEP_OPTIONS for the options fuzzer, written from the grammar in
// options.hpp and the README's table rather than from options.cpp: `key=value` entries
// separated by `:`, each applied in turn; an entry that is not `key=value`, names no known key
// or has a malformed value is an error at the entry's offset and changes nothing, except that
// max_lock_depth above its ceiling is an error that still sets the ceiling.
//
// Values: flags take 0/1 (and true/false, yes/no); paths any non-empty text; table sizes a
// positive decimal integer; hang_timeout seconds from 0 to 10^6 (number syntax: std::from_chars);
// dump_signal a catchable signal that does not mean a fault, by number or by name with or
// without SIG.
#pragma once

#include <charconv>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lockdep/options.hpp"

namespace lockdep_fuzz {

struct reference_parse {
  lockdep::options result;
  std::vector<std::size_t> error_offsets;
};

namespace options_reference {

inline std::optional<bool> flag(std::string_view value) {
  for (std::string_view yes : {"1", "true", "yes"}) {
    if (value == yes) return true;
  }
  for (std::string_view no : {"0", "false", "no"}) {
    if (value == no) return false;
  }
  return std::nullopt;
}

// Decimal digits only, no sign, and no more than fits.
inline std::optional<std::uint64_t> decimal(std::string_view value) {
  if (value.empty()) return std::nullopt;
  std::uint64_t number = 0;
  for (char digit : value) {
    if (digit < '0' || digit > '9') return std::nullopt;
    unsigned next = static_cast<unsigned>(digit - '0');
    if (number > (std::numeric_limits<std::uint64_t>::max() - next) / 10) return std::nullopt;
    number = number * 10 + next;
  }
  return number;
}

inline std::optional<int> signal_number(std::string_view value) {
  if (value.substr(0, 3) == "SIG") value.remove_prefix(3);
  struct named {
    std::string_view name;
    int number;
  };
  static constexpr named catchable[] = {{"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},
                                        {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"ALRM", SIGALRM},
                                        {"TERM", SIGTERM}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},
                                        {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR}};
  for (const named& known : catchable) {
    if (value == known.name) return known.number;
  }
  std::optional<std::uint64_t> number = decimal(value);
  if (!number || *number < 1 || *number > static_cast<std::uint64_t>(SIGRTMAX)) {
    return std::nullopt;
  }
  int signal = static_cast<int>(*number);
  for (int refused :
       {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) {
    if (signal == refused) return std::nullopt;
  }
  return signal;
}

inline std::optional<double> seconds(std::string_view value) {
  double parsed = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  if (!(parsed >= 0 && parsed <= 1e6)) return std::nullopt;
  return parsed;
}

// Applies one entry; false if it is an error.
inline bool apply(std::string_view key, std::string_view value, lockdep::options& into) {
  using lockdep::options;
  struct flag_key {
    std::string_view key;
    bool options::*field;
  };
  for (flag_key known : {flag_key{"keep_going", &options::keep_going},
                         flag_key{"abort_on_assert", &options::abort_on_assert},
                         flag_key{"source_locations", &options::source_locations}}) {
    if (key != known.key) continue;
    std::optional<bool> parsed = flag(value);
    if (parsed) into.*known.field = *parsed;
    return parsed.has_value();
  }
  struct path_key {
    std::string_view key;
    std::string options::*field;
  };
  for (path_key known : {path_key{"log_path", &options::log_path},
                         path_key{"json_log_path", &options::json_log_path},
                         path_key{"suppressions", &options::suppressions},
                         path_key{"dump_path", &options::dump_path},
                         path_key{"graph_dot_path", &options::graph_dot_path},
                         path_key{"graph_json_path", &options::graph_json_path}}) {
    if (key != known.key) continue;
    if (!value.empty()) into.*known.field = std::string(value);
    return !value.empty();
  }
  struct size_key {
    std::string_view key;
    std::size_t options::*field;
  };
  for (size_key known : {size_key{"max_lock_depth", &options::max_lock_depth},
                         size_key{"max_classes", &options::max_classes},
                         size_key{"max_dependencies", &options::max_dependencies},
                         size_key{"max_chains", &options::max_chains},
                         size_key{"max_chain_hlocks", &options::max_chain_hlocks},
                         size_key{"max_stack_entries", &options::max_stack_entries},
                         size_key{"stack_depth", &options::stack_depth}}) {
    if (key != known.key) continue;
    std::optional<std::uint64_t> parsed = decimal(value);
    if (!parsed || *parsed == 0) return false;
    if (known.field == &options::max_lock_depth && *parsed > options::lock_depth_ceiling) {
      into.max_lock_depth = options::lock_depth_ceiling;
      return false;
    }
    into.*known.field = *parsed;
    return true;
  }
  if (key == "hang_timeout") {
    std::optional<double> parsed = seconds(value);
    if (parsed) into.hang_timeout = *parsed;
    return parsed.has_value();
  }
  if (key == "dump_signal") {
    std::optional<int> parsed = signal_number(value);
    if (parsed) into.dump_signal = *parsed;
    return parsed.has_value();
  }
  return false;
}

}  // namespace options_reference

inline reference_parse parse_options_reference(std::string_view text, lockdep::options start) {
  reference_parse parsed{std::move(start), {}};
  std::size_t offset = 0;
  for (;;) {
    std::size_t colon = text.find(':', offset);
    std::string_view entry = text.substr(
        offset, colon == std::string_view::npos ? std::string_view::npos : colon - offset);
    if (!entry.empty()) {
      std::size_t equals = entry.find('=');
      bool applied = equals != std::string_view::npos &&
                     options_reference::apply(entry.substr(0, equals), entry.substr(equals + 1),
                                              parsed.result);
      if (!applied) parsed.error_offsets.push_back(offset);
    }
    if (colon == std::string_view::npos) break;
    offset = colon + 1;
  }
  return parsed;
}

}  // namespace lockdep_fuzz

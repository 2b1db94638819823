#include "preload_init.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "held_lock_stack.hpp"
#include "lockdep/options.hpp"
#include "real_functions.hpp"
#include "reentrancy_guard.hpp"
#include "report_marker.hpp"
#include "thread_lifecycle.hpp"
#include "validator_core.hpp"

extern char** environ;

namespace lockdep::preload {
namespace {

constexpr char options_variable[] = "LOCKDEP_OPTIONS";

preload_options configured;

// Has the validator parse LOCKDEP_OPTIONS without the preload's keys. The validator reads the
// variable once, on first use, so for that one read the environment entry points at a blanked
// copy; the program's environment (inherited by its children) is restored at once. Runs in the
// constructor, before the program has threads that could read the environment concurrently.
void let_validator_read_options(const char* text) {
  std::size_t name_length = std::strlen(options_variable);
  char** entry = nullptr;
  for (char** at = environ; at != nullptr && *at != nullptr; ++at) {
    if (std::strncmp(*at, options_variable, name_length) == 0 && (*at)[name_length] == '=') {
      entry = at;
      break;
    }
  }
  if (entry == nullptr) {
    (void)current_options();
    return;
  }
  // Leaked on purpose: tiny, and nothing may point into it after the swap back anyway.
  auto* blanked = new std::string(std::string(options_variable) + "=" + hide_preload_keys(text));
  char* original = *entry;
  *entry = blanked->data();
  (void)current_options();
  *entry = original;
}

[[gnu::constructor]] void initialise_preload() {
  lockdep_scope scope;
  (void)real();
  const char* text = std::getenv(options_variable);
  if (text != nullptr) {
    std::vector<preload_option_error> errors;
    configured = read_preload_options(text, &errors);
    for (const preload_option_error& error : errors) {
      std::fprintf(stderr, "lockdep: LOCKDEP_OPTIONS at offset %zu: %s; ignored\n", error.position,
                   error.message.c_str());
    }
  }
  let_validator_read_options(text);
  // Here, not on the program's first lock: that may come from inside its allocator, and the
  // validator's threads (dump_signal, hang_timeout) are created with the validator, by
  // pthread_create, which allocates with the program's malloc.
  (void)detail::core();
  detail::create_thread_end_key();
  install_report_marker();
  register_fork_handlers();
  preload_ready.store(true, std::memory_order_release);
}

}  // namespace

const preload_options& preload_config() {
  return configured;
}

}  // namespace lockdep::preload

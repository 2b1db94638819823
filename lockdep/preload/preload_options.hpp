// The LOCKDEP_OPTIONS keys that belong to LD_PRELOAD mode, not to the validator:
//
//   exitcode=N               lockdep-run's status when a report was printed and the program
//                            exited with 0 (default 66; 0..255). Read by the launcher.
//   preload_classes=instance one lock class per pthread object (default), named by its address
//   preload_classes=callsite one class per pthread_*_init call site
//   watch_frees=1            forget the locks in memory the program frees (default; 0: the
//                            launcher does not preload liblockdep_free_watch.so). Read by the
//                            launcher.
//
// The validator's own parser reports unknown keys ("lockdep: LOCKDEP_OPTIONS at offset N:
// 'exitcode' is not a known option; ignored"), so the preload hands it the text with these entries
// blanked (hide_preload_keys). Blanking, not removing, keeps the validator's offsets pointing into
// the user's text: it skips empty entries silently.
//
// Pure functions over text: thread-safe, no global state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lockdep::preload {

inline constexpr int default_exitcode = 66;

enum class class_mode { per_instance, per_callsite };

struct preload_options {
  int exitcode = default_exitcode;
  class_mode classes = class_mode::per_instance;
  bool watch_frees = true;
};

struct preload_option_error {
  std::size_t position;  // byte offset of the entry in the text
  std::string message;
};

// Reads the preload's keys from `text` (`key=value:key=value`); other keys are ignored here.
preload_options read_preload_options(std::string_view text,
                                     std::vector<preload_option_error>* errors = nullptr);

// `text` with every preload entry replaced by as many ':' as it had characters.
std::string hide_preload_keys(std::string_view text);

}  // namespace lockdep::preload

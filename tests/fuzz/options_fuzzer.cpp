// libFuzzer target: lockdep::parse_options on arbitrary text. The result and the error offsets
// must be those of the reference reading (options_reference.hpp), every error must carry a
// message, and the options parsed must survive being written out as LOCKDEP_OPTIONS text and
// parsed again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_check.hpp"
#include "lockdep/options.hpp"
#include "options_reference.hpp"

namespace {

using lockdep::options;
using lockdep_fuzz::fail;

// The fields that differ between two option sets, by key.
std::string differences(const options& got, const options& wanted) {
  std::string differ;
  auto compare = [&differ](const char* key, const auto& a, const auto& b) {
    if (!(a == b)) differ += fmt::format(" {}: {} instead of {};", key, a, b);
  };
  compare("keep_going", got.keep_going, wanted.keep_going);
  compare("abort_on_assert", got.abort_on_assert, wanted.abort_on_assert);
  compare("source_locations", got.source_locations, wanted.source_locations);
  compare("log_path", got.log_path, wanted.log_path);
  compare("json_log_path", got.json_log_path, wanted.json_log_path);
  compare("suppressions", got.suppressions, wanted.suppressions);
  compare("dump_path", got.dump_path, wanted.dump_path);
  compare("graph_dot_path", got.graph_dot_path, wanted.graph_dot_path);
  compare("graph_json_path", got.graph_json_path, wanted.graph_json_path);
  compare("hang_timeout", got.hang_timeout, wanted.hang_timeout);
  compare("dump_signal", got.dump_signal, wanted.dump_signal);
  compare("max_lock_depth", got.max_lock_depth, wanted.max_lock_depth);
  compare("max_classes", got.max_classes, wanted.max_classes);
  compare("max_dependencies", got.max_dependencies, wanted.max_dependencies);
  compare("max_chains", got.max_chains, wanted.max_chains);
  compare("max_chain_hlocks", got.max_chain_hlocks, wanted.max_chain_hlocks);
  compare("max_stack_entries", got.max_stack_entries, wanted.max_stack_entries);
  compare("stack_depth", got.stack_depth, wanted.stack_depth);
  return differ;
}

// The options as LOCKDEP_OPTIONS text; fields that cannot be written (empty paths, no signal)
// are left at their default.
std::string as_text(const options& parsed) {
  std::string text = fmt::format(
      "keep_going={:d}:abort_on_assert={:d}:source_locations={:d}:log_path={}:"
      "hang_timeout={}:max_lock_depth={}:max_classes={}:max_dependencies={}:max_chains={}:"
      "max_chain_hlocks={}:max_stack_entries={}:stack_depth={}",
      parsed.keep_going, parsed.abort_on_assert, parsed.source_locations, parsed.log_path,
      parsed.hang_timeout, parsed.max_lock_depth, parsed.max_classes, parsed.max_dependencies,
      parsed.max_chains, parsed.max_chain_hlocks, parsed.max_stack_entries, parsed.stack_depth);
  auto path = [&text](const char* key, const std::string& value) {
    if (!value.empty()) text += fmt::format(":{}={}", key, value);
  };
  path("json_log_path", parsed.json_log_path);
  path("suppressions", parsed.suppressions);
  path("dump_path", parsed.dump_path);
  path("graph_dot_path", parsed.graph_dot_path);
  path("graph_json_path", parsed.graph_json_path);
  if (parsed.dump_signal != 0) text += fmt::format(":dump_signal={}", parsed.dump_signal);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  options parsed;
  std::vector<lockdep::option_error> errors = lockdep::parse_options(text, parsed);

  lockdep_fuzz::reference_parse wanted = lockdep_fuzz::parse_options_reference(text, options{});
  std::vector<std::size_t> offsets;
  for (const lockdep::option_error& error : errors) {
    if (error.message.empty()) fail("an option error without a message");
    offsets.push_back(error.position);
  }
  if (offsets != wanted.error_offsets) {
    fail(fmt::format("errors at offsets {} where the reference has {}", fmt::join(offsets, ","),
                     fmt::join(wanted.error_offsets, ",")));
  }
  if (std::string differ = differences(parsed, wanted.result); !differ.empty()) {
    fail("parsed options differ from the reference:" + differ);
  }

  std::string written = as_text(parsed);
  options again;
  std::vector<lockdep::option_error> reparse_errors = lockdep::parse_options(written, again);
  if (!reparse_errors.empty()) {
    fail(fmt::format("'{}' has an error at offset {}: {}", written, reparse_errors[0].position,
                     reparse_errors[0].message));
  }
  if (std::string differ = differences(again, parsed); !differ.empty()) {
    fail("'" + written + "' parses to other options:" + differ);
  }
  return 0;
}

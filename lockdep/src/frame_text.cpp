// The text forms of a stack frame (report.hpp): the kernel's `%pS` and the decoded form of
// scripts/decode_stacktrace.sh.
#include <array>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "lockdep/report.hpp"

namespace lockdep {

namespace {

std::string hex(std::uintptr_t value) {
  std::array<char, 2 + 2 * sizeof value> digits{'0', 'x'};
  const auto end = std::to_chars(digits.data() + 2, digits.data() + digits.size(), value, 16).ptr;
  return std::string(digits.data(), end);
}

// `path` relative to the source root when it is under it, unless absolute paths are wanted.
std::string shown_path(const std::string& path, const text_options& shown) {
  const std::string_view root = shown.source_root;
  if (shown.absolute_paths || root.empty() || root == "/") return path;
  const std::string_view under = std::string_view(path).substr(0, root.size());
  if (under != root || path.size() <= root.size() + 1 || path[root.size()] != '/') return path;
  return path.substr(root.size() + 1);
}

}  // namespace

std::string stack_frame::text() const {
  std::string result =
      function.empty() ? hex(address) : function + "+" + hex(offset) + "/" + hex(size);
  if (!module.empty()) result += " [" + module + "]";
  return result;
}

// decode_stacktrace.sh's parse_symbol() replaces `function+0xoff/0xsize` by `function (code)`,
// where code is what `addr2line -i` answers, and handle_line() appends the module it took out of
// its brackets. One difference, on purpose: one location, the line in `function` (the script
// joins addr2line's lines for the inlined functions into the parentheses; here they get lines of
// their own, see decoded_lines()). The script strips its base path, the root of the one kernel
// tree every frame comes from; here the root is the source_root the options give (the working
// directory by default): a process's objects come from many trees, and the one base their
// debug information records, the compilation directory, is CMake's build directory and no
// prefix of the sources.
std::string stack_frame::decoded_text(const text_options& shown) const {
  if (in_validator && !function.empty()) return function;
  if (function.empty() || file.empty() || line == 0) return text();
  std::string result = function + " (" + shown_path(file, shown) + ":" + std::to_string(line) + ")";
  if (!module.empty()) result += " " + module;
  return result;
}

std::string inlined_function::decoded_text(const text_options& shown) const {
  if (file.empty() || line == 0) return function;
  return function + " (" + shown_path(file, shown) + ":" + std::to_string(line) + ")";
}

// One line per function, as ThreadSanitizer and `eu-addr2line -i` print an inlined call, so
// that the user's line stands on its own line, last, where the frame's module is. Each line
// starts with its function, as every other frame line does; the tag follows, where arm64 traces
// tag a frame (`(P)`) and decode_stacktrace.sh keeps it.
std::vector<std::string> stack_frame::decoded_lines(const text_options& shown) const {
  std::vector<std::string> lines;
  lines.reserve(inlined.size() + 1);
  for (const inlined_function& callee : inlined) {
    lines.push_back(callee.decoded_text(shown) + " (inlined)");
  }
  lines.push_back(decoded_text(shown));
  return lines;
}

}  // namespace lockdep

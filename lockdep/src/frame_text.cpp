// The text forms of a stack frame (report.hpp): the kernel's `%pS` and the decoded form of
// scripts/decode_stacktrace.sh.
#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "lockdep/report.hpp"

namespace lockdep {

namespace {

std::string hex(std::uintptr_t value) {
  std::array<char, 2 + 2 * sizeof value> digits{'0', 'x'};
  const auto end = std::to_chars(digits.data() + 2, digits.data() + digits.size(), value, 16).ptr;
  return std::string(digits.data(), end);
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
// its brackets. Two differences, both on purpose: one location, the line in `function` (the
// script joins addr2line's lines for the inlined functions into the parentheses; here they get
// lines of their own, see decoded_lines()), and the path as recorded. The script strips its
// base path, the root of the one kernel tree every frame comes from; a process's objects come
// from many trees, and the one base the debug information records, the compilation directory,
// is CMake's build directory and no prefix of the sources. A full path is also what compilers
// and debuggers print and what an editor opens.
std::string stack_frame::decoded_text() const {
  if (function.empty() || file.empty() || line == 0) return text();
  std::string result = function + " (" + file + ":" + std::to_string(line) + ")";
  if (!module.empty()) result += " " + module;
  return result;
}

std::string inlined_function::decoded_text() const {
  if (file.empty() || line == 0) return function;
  return function + " (" + file + ":" + std::to_string(line) + ")";
}

// One line per function, as ThreadSanitizer and `eu-addr2line -i` print an inlined call, so
// that the user's line stands on its own line, last, where the frame's module is. Each line
// starts with its function, as every other frame line does; the tag follows, where arm64 traces
// tag a frame (`(P)`) and decode_stacktrace.sh keeps it.
std::vector<std::string> stack_frame::decoded_lines() const {
  std::vector<std::string> lines;
  lines.reserve(inlined.size() + 1);
  for (const inlined_function& callee : inlined) {
    lines.push_back(callee.decoded_text() + " (inlined)");
  }
  lines.push_back(decoded_text());
  return lines;
}

}  // namespace lockdep

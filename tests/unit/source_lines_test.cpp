// Source lines beside stack frames (libdw): symbolized frames carry file and line where debug
// information has them, and the functions inlined there; reports print them as
// decode_stacktrace.sh decodes a frame, with a line per inlined function, unless
// source_locations is off, and the JSON carries them either way.
#include <elf.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "inlined_calls.hpp"
#include "json_text.hpp"
#include "library_addresses.hpp"
#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"
#include "stack_capture.hpp"
#include "symbolization.hpp"

using lockdep::stack_frame;
using lockdep::detail::capture_stack;
using lockdep::detail::symbolize;
using lockdep_test::address_in;
using lockdep_test::address_of;

namespace source_lines_test {

// Source lines: the code between the two markers is what the frames below must point into.
constexpr unsigned located_first_line = __LINE__;

[[gnu::noinline]] std::uintptr_t return_address_here() {
  std::uintptr_t frame = 0;
  capture_stack(&frame, 1);
  asm volatile("" ::: "memory");
  return frame;
}

// a, then b: the second call records a --> b, or reports when b --> a is known.
[[gnu::noinline]] void take_in_order(lockdep::mutex& a, lockdep::mutex& b) {
  a.lock();
  b.lock();
  b.unlock();
  a.unlock();
  asm volatile("" ::: "memory");
}

constexpr unsigned located_last_line = __LINE__;

}  // namespace source_lines_test

namespace {

// Whether the ELF file at `path` has a DWARF line table, in itself or in a separate debug file
// found by its build ID (/usr/lib/debug/.build-id/xx/yyyy.debug), as Debian's debug packages
// install them. Read directly from the ELF headers, independently of the symbolizer, so a test
// knows which answer to expect on this machine.
bool has_line_table(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  Elf64_Ehdr header{};
  if (!file.read(reinterpret_cast<char*>(&header), sizeof header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64) {
    return false;
  }
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  file.seekg(static_cast<std::streamoff>(header.e_shoff));
  file.read(reinterpret_cast<char*>(sections.data()),
            static_cast<std::streamsize>(sections.size() * sizeof(Elf64_Shdr)));
  if (!file || header.e_shstrndx >= sections.size()) return false;
  const auto contents = [&](const Elf64_Shdr& section) {
    std::string bytes(section.sh_size, '\0');
    file.seekg(static_cast<std::streamoff>(section.sh_offset));
    file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return bytes;
  };
  const std::string names = contents(sections[header.e_shstrndx]);
  for (const Elf64_Shdr& section : sections) {
    if (section.sh_name >= names.size()) continue;
    const std::string name = names.c_str() + section.sh_name;
    if ((name == ".debug_line" || name == ".zdebug_line") && section.sh_type != SHT_NOBITS) {
      return true;
    }
    if (name != ".note.gnu.build-id") continue;
    const std::string note = contents(section);
    Elf64_Nhdr note_header{};
    if (note.size() < sizeof note_header) continue;
    std::memcpy(&note_header, note.data(), sizeof note_header);
    const std::size_t id_at = sizeof note_header + ((note_header.n_namesz + 3) & ~3u);
    if (note_header.n_type != NT_GNU_BUILD_ID || id_at + note_header.n_descsz > note.size() ||
        note_header.n_descsz < 2) {
      continue;
    }
    std::string digits;
    for (std::size_t i = 0; i < note_header.n_descsz; ++i) {
      std::array<char, 3> byte{};
      std::snprintf(byte.data(), byte.size(), "%02x",
                    static_cast<unsigned>(static_cast<unsigned char>(note[id_at + i])));
      digits += byte.data();
    }
    const std::string debug_file =
        "/usr/lib/debug/.build-id/" + digits.substr(0, 2) + "/" + digits.substr(2) + ".debug";
    if (std::filesystem::exists(debug_file)) return true;
  }
  return false;
}

// The program's own frames have source lines only when it was built with debug information
// (the Debug build); without, tests of them have nothing to check.
bool program_has_line_table() {
  static const bool has = has_line_table("/proc/self/exe");
  return has;
}

bool in_located_code(const stack_frame& frame) {
  return frame.file.ends_with("/source_lines_test.cpp") &&
         frame.line > source_lines_test::located_first_line &&
         frame.line < source_lines_test::located_last_line;
}

bool is_inlined_line(const std::string& line) {
  return line.ends_with(" (inlined)");
}

std::vector<std::string> without_inlined_lines(std::vector<std::string> lines) {
  std::erase_if(lines, is_inlined_line);
  return lines;
}

}  // namespace

TEST_CASE("stack_frame::decoded_text prints the frame as decode_stacktrace.sh decodes it",
          "[stack_trace][source_lines]") {
  stack_frame frame;
  frame.address = 0xffffffff81234567;
  frame.function = "lock_acquire";
  frame.offset = 0x3f;
  frame.size = 0x320;
  frame.file = "/src/linux/kernel/locking/lockdep.c";
  frame.line = 4488;
  CHECK(frame.decoded_text() == "lock_acquire (/src/linux/kernel/locking/lockdep.c:4488)");
  CHECK(frame.text() == "lock_acquire+0x3f/0x320");  // %pS stays the kernel's

  // The module follows, out of its brackets, as the script prints it.
  frame.module = "btrfs";
  CHECK(frame.decoded_text() == "lock_acquire (/src/linux/kernel/locking/lockdep.c:4488) btrfs");

  // Nothing to decode: the kernel's %pS.
  frame.line = 0;
  CHECK(frame.decoded_text() == "lock_acquire+0x3f/0x320 [btrfs]");
  frame.line = 4488;
  frame.file.clear();
  CHECK(frame.decoded_text() == "lock_acquire+0x3f/0x320 [btrfs]");
  // The script decodes only named frames.
  frame.file = "/src/linux/kernel/locking/lockdep.c";
  frame.function.clear();
  CHECK(frame.decoded_text() == "0xffffffff81234567 [btrfs]");
}

TEST_CASE("symbolize gives the source line of code with debug information",
          "[stack_trace][source_lines]") {
  if (!program_has_line_table()) {
    WARN("this test program has no debug information: no source lines to check");
    return;
  }
  const std::uintptr_t return_address = source_lines_test::return_address_here();
  const stack_frame frame = symbolize(return_address);
  CHECK(frame.function == "source_lines_test::return_address_here");
  INFO(frame.file << ":" << frame.line);
  CHECK(frame.file.starts_with("/"));  // as recorded: CMake compiles absolute paths
  CHECK(in_located_code(frame));
  CHECK(frame.text().find("source_lines_test.cpp") == std::string::npos);

  // An acquisition ip is looked up as it is: the function's first instruction is on the line
  // of its opening.
  const stack_frame start = symbolize(address_of(&source_lines_test::take_in_order), false);
  CHECK(start.function == "source_lines_test::take_in_order");
  CHECK(in_located_code(start));
  CHECK(start.line > frame.line);  // take_in_order follows return_address_here
}

TEST_CASE("a frame in a library has a source line exactly when the library has a line table",
          "[stack_trace][source_lines]") {
  struct library_function {
    const char* library;
    const char* function;
  };
  // libc has one when its debug package (libc6-dbg) is installed; the others have none on a
  // Debian machine without their -dbgsym packages.
  const std::vector<library_function> cases{{"libc.so.6", "getenv"},
                                            {"libstdc++.so.6", "__cxa_demangle"},
                                            {"libunwind.so.8", "unw_backtrace"}};
  bool saw_library_without = false;
  for (const auto& [library, function] : cases) {
    const std::uintptr_t address = address_in(library, function);
    REQUIRE(address != 0);
    Dl_info object{};
    REQUIRE(dladdr(reinterpret_cast<void*>(address), &object) != 0);
    const bool has_lines = has_line_table(object.dli_fname);
    saw_library_without = saw_library_without || !has_lines;

    const stack_frame frame = symbolize(address + 4, false);
    INFO(object.dli_fname << " " << frame.file << ":" << frame.line);
    CHECK(frame.function == function);
    CHECK(frame.file.empty() == !has_lines);
    CHECK((frame.line == 0) == !has_lines);
    CHECK(frame.text().starts_with(std::string(function) + "+0x4/0x"));
    if (!has_lines) CHECK(frame.decoded_text() == frame.text());
  }
  // The case this test is for: no debug information, no location, no crash.
  CHECK(saw_library_without);
}

TEST_CASE("frames outside any object have no source line", "[stack_trace][source_lines]") {
  const stack_frame frame = symbolize(0x10, false);
  CHECK(frame.file.empty());
  CHECK(frame.line == 0);
  CHECK(frame.decoded_text() == "0x10");
}

TEST_CASE("report text shows source lines beside frames unless asked for the kernel's text",
          "[stack_trace][source_lines]") {
  if (!program_has_line_table()) {
    WARN("this test program has no debug information: no source lines to check");
    return;
  }
  lockdep::testing::report_capture capture;
  lockdep::mutex a{LOCKDEP_CLASS("located_a")};
  lockdep::mutex b{LOCKDEP_CLASS("located_b")};
  source_lines_test::take_in_order(a, b);
  source_lines_test::take_in_order(b, a);
  REQUIRE(capture.count() == 1);
  const lockdep::report found = capture.only();

  // The second call takes located_a holding located_b, at the call in take_in_order that
  // recorded located_a --> located_b in the first: the lock line and both chain entries show it.
  const stack_frame& site = found.acquiring.acquired_at;
  INFO(site.file << ":" << site.line);
  REQUIRE(in_located_code(site));
  const std::string location = "(" + site.file + ":" + std::to_string(site.line) + ")";
  const std::string decoded_site = "source_lines_test::take_in_order " + location;
  // The lines of inlined functions (lockdep's own, or libc's with its debug package) have no
  // counterpart in the kernel's text; every other line has one.
  // Every frame shown, with its path as recorded, so that lines compare one to one.
  lockdep::text_options shown;
  shown.absolute_paths = true;
  shown.std_frames = true;
  const std::vector<std::string> decoded = without_inlined_lines(found.kernel_lines(shown));
  const std::vector<std::string> kernel = found.kernel_lines(false);
  REQUIRE(decoded.size() == kernel.size());

  const std::regex decoded_lock_line(R"([0-9a-f]{16} \(located_a\)\{\+\.\+\.\}, at: (.*))");
  std::smatch at;
  const auto lock_line = std::ranges::find_if(decoded, [&](const std::string& line) {
    return std::regex_match(line, at, decoded_lock_line);
  });
  REQUIRE(lock_line != decoded.end());
  CHECK(at[1].str() == decoded_site);
  // Frame lines (the chain's and the backtrace's): the indentation, then the decoded frame.
  CHECK(std::ranges::count(decoded, "       " + decoded_site) == 2);
  CHECK(std::ranges::count(decoded, " " + decoded_site) == 1);

  // source_locations=0: the kernel's %pS wherever the decoded text shows a source line, and the
  // same text everywhere else.
  const std::regex decoded_frame(R"(\(.+:[1-9][0-9]*\)( \S+)?$)");
  const std::regex kernel_frame(R"(\+0x[0-9a-f]+/0x[0-9a-f]+( \[\S+\])?$)");
  for (std::size_t i = 0; i < kernel.size(); ++i) {
    INFO(decoded[i] << "\n" << kernel[i]);
    CHECK(kernel[i].find("source_lines_test.cpp:") == std::string::npos);
    if (kernel[i] == decoded[i]) continue;
    // The validator's own frame (lockdep::mutex::lock) is shown by its function alone.
    if (kernel[i].starts_with(decoded[i] + "+0x") && decoded[i].ends_with("::lock")) continue;
    CHECK(std::regex_search(decoded[i], decoded_frame));
    CHECK(std::regex_search(kernel[i], kernel_frame));
  }
  CHECK(std::ranges::count(kernel, "       " + site.text()) == 2);
  CHECK(site.text().starts_with("source_lines_test::take_in_order+0x"));
  CHECK(found.kernel_text(false).find(", at: " + site.text() + "\n") != std::string::npos);
  CHECK(found.kernel_text(true).find("source_lines_test.cpp:") != std::string::npos);
  // The validator's frame keeps its source line in the data, as every frame does.
  REQUIRE(!found.backtrace.empty());
  CHECK(found.backtrace.front().in_validator);
  CHECK(found.backtrace.front().function == "lockdep::mutex::lock");
  CHECK(found.backtrace.front().inlined.empty());
  CHECK(found.json().find("\"in_validator\":true") != std::string::npos);

  // JSON frames carry the file and line, whatever the text shows.
  std::string escaped_file;
  lockdep::detail::append_json_string(escaped_file, site.file);
  CHECK(found.json().find("\"file\":" + escaped_file + ",\"line\":" + std::to_string(site.line) +
                          ",") != std::string::npos);
}

TEST_CASE("JSON frames carry the file and line, empty and 0 when unknown",
          "[stack_trace][source_lines]") {
  stack_frame frame;
  frame.address = 0x401234;
  frame.function = "take";
  frame.offset = 0x4;
  frame.size = 0x10;
  frame.file = "/src/app/take.cpp";
  frame.line = 42;
  std::string json;
  lockdep::detail::append_json_frame(json, frame);
  CHECK(json == R"({"address":"0x401234","function":"take","offset":4,"size":16,"module":"",)"
                R"("file":"/src/app/take.cpp","line":42,"inlined":[],"in_validator":false,)"
                R"("text":"take+0x4/0x10"})");

  frame.file.clear();
  frame.line = 0;
  json.clear();
  lockdep::detail::append_json_frame(json, frame);
  CHECK(json.find(R"("module":"","file":"","line":0,"inlined":[],"in_validator":false,"text":)") !=
        std::string::npos);
}

namespace {

std::string location(const std::string& file, unsigned line) {
  return "(" + file + ":" + std::to_string(line) + ")";
}

// The lines a trace prints for a frame of inlined_calls.cpp, whose chain of calls is `lines`.
std::vector<std::string> inlined_call_lines(const std::string& file,
                                            const inlined_calls::call_lines& lines,
                                            const std::string& innermost, const std::string& middle,
                                            const std::string& outer) {
  return {"inlined_calls::" + innermost + " " + location(file, lines.innermost) + " (inlined)",
          "inlined_calls::" + middle + " " + location(file, lines.middle) + " (inlined)",
          "inlined_calls::" + outer + " " + location(file, lines.outer)};
}

bool contains_in_a_row(const std::vector<std::string>& text,
                       const std::vector<std::string>& lines) {
  // std::search, not std::ranges::search: clang 14 cannot compile libstdc++ 12's subrange.
  return std::search(text.begin(), text.end(), lines.begin(), lines.end()) != text.end();
}

std::vector<std::string> indented(std::vector<std::string> lines, std::size_t indent) {
  for (std::string& line : lines) line.insert(0, indent, ' ');
  return lines;
}

}  // namespace

TEST_CASE("decoded_lines prints each inlined function on its own line before the frame's own",
          "[stack_trace][source_lines][inlined]") {
  stack_frame frame;
  frame.address = 0x401234;
  frame.function = "restock";
  frame.offset = 0x14;
  frame.size = 0x40;
  frame.module = "shop";
  frame.file = "/src/shop.cpp";
  frame.line = 12;
  const std::string std_mutex = "/usr/include/c++/12/bits/std_mutex.h";
  frame.inlined = {{"std::mutex::lock", std_mutex, 100},
                   {"std::lock_guard<std::mutex>::lock_guard", std_mutex, 229}};
  CHECK(frame.decoded_lines() ==
        std::vector<std::string>{
            "std::mutex::lock (" + std_mutex + ":100) (inlined)",
            "std::lock_guard<std::mutex>::lock_guard (" + std_mutex + ":229) (inlined)",
            "restock (/src/shop.cpp:12) shop"});
  // One location, the user's: what a lock's `at:` shows.
  CHECK(frame.decoded_text() == "restock (/src/shop.cpp:12) shop");
  CHECK(frame.text() == "restock+0x14/0x40 [shop]");

  // An inlined function whose line is unknown is still named.
  frame.inlined[0].line = 0;
  CHECK(frame.decoded_lines().front() == "std::mutex::lock (inlined)");

  frame.inlined.clear();
  CHECK(frame.decoded_lines() == std::vector<std::string>{frame.decoded_text()});
}

TEST_CASE("symbolize lists the functions inlined at an address, innermost first, with their lines",
          "[stack_trace][source_lines][inlined]") {
  const stack_frame frame = symbolize(inlined_calls::return_address_inlined());
  const inlined_calls::call_lines& lines = inlined_calls::capture_lines;
  INFO(frame.file << ":" << frame.line);
  CHECK(frame.function == "inlined_calls::return_address_inlined");
  REQUIRE(frame.inlined.size() == 2);
  CHECK(frame.inlined[0].function == "inlined_calls::capture_innermost");
  CHECK(frame.inlined[0].file.ends_with("/tests/unit/inlined_calls.cpp"));
  CHECK(frame.inlined[0].line == lines.innermost);
  CHECK(frame.inlined[1].function == "inlined_calls::capture_through");
  CHECK(frame.inlined[1].file == frame.inlined[0].file);
  CHECK(frame.inlined[1].line == lines.middle);
  // The frame's own line is the one in its function: the call the user wrote.
  CHECK(frame.file == frame.inlined[0].file);
  CHECK(frame.line == lines.outer);
  CHECK(frame.decoded_lines() == inlined_call_lines(frame.file, lines, "capture_innermost",
                                                    "capture_through", "return_address_inlined"));
}

TEST_CASE("an inlined function without a linkage name is qualified by its scopes",
          "[stack_trace][source_lines][inlined]") {
  const stack_frame frame = symbolize(inlined_calls::return_address_in_lambda());
  CHECK(frame.function == "inlined_calls::return_address_in_lambda");
  REQUIRE(!frame.inlined.empty());
  const std::string& lambda = frame.inlined.back().function;
  INFO(lambda);
  // "inlined_calls::return_address_in_lambda::{lambda}::operator()" from its scopes, or the
  // demangled linkage name where the compiler gives one.
  CHECK(lambda.starts_with("inlined_calls::return_address_in_lambda"));
  CHECK(lambda.ends_with("::operator()"));
}

TEST_CASE("a report on an inlined lock call shows the user's line and every inlined function",
          "[stack_trace][source_lines][inlined]") {
  lockdep::testing::report_capture capture;
  lockdep::mutex a{LOCKDEP_CLASS("inlined_a")};
  lockdep::mutex b{LOCKDEP_CLASS("inlined_b")};
  a.lock();
  inlined_calls::lock_inlined(b);
  b.unlock();
  a.unlock();
  b.lock();
  inlined_calls::lock_inlined(a);  // inlined_a --> inlined_b is known: reported
  a.unlock();
  b.unlock();
  REQUIRE(capture.count() == 1);
  const lockdep::report found = capture.only();

  const stack_frame& site = found.acquiring.acquired_at;
  const inlined_calls::call_lines& lines = inlined_calls::lock_lines;
  INFO(site.file << ":" << site.line);
  CHECK(site.function == "inlined_calls::lock_inlined");
  REQUIRE(site.inlined.size() == 2);
  CHECK(site.inlined[0].function == "inlined_calls::take_innermost");
  CHECK(site.inlined[0].line == lines.innermost);
  CHECK(site.inlined[1].function == "inlined_calls::take_through");
  CHECK(site.inlined[1].line == lines.middle);
  REQUIRE(site.file.ends_with("/tests/unit/inlined_calls.cpp"));
  CHECK(site.line == lines.outer);

  // Text: the lock line shows the user's line; traces (#0 of the chain and the backtrace) show
  // the inlined functions, then it. Paths as recorded, wherever the test runs from.
  lockdep::text_options shown;
  shown.absolute_paths = true;
  const std::vector<std::string> decoded = found.kernel_lines(shown);
  const std::string user_site = "inlined_calls::lock_inlined " + location(site.file, lines.outer);
  CHECK(std::ranges::count_if(decoded, [&](const std::string& line) {
          return line.ends_with("(inlined_a){+.+.}, at: " + user_site);
        }) == 1);
  const std::vector<std::string> frame_lines =
      inlined_call_lines(site.file, lines, "take_innermost", "take_through", "lock_inlined");
  CHECK(contains_in_a_row(decoded, indented(frame_lines, 7)));
  CHECK(contains_in_a_row(decoded, indented(frame_lines, 1)));

  // source_locations=0: the kernel's text, no source line and no inlined function.
  const std::vector<std::string> kernel = found.kernel_lines(false);
  CHECK(std::ranges::none_of(kernel, [](const std::string& line) {
    return line.find("inlined_calls.cpp") != std::string::npos || is_inlined_line(line);
  }));
  // Both dependencies were recorded at this call: #1 and #0 of the chain.
  CHECK(std::ranges::count(kernel, "       " + site.text()) == 2);
  CHECK(found.kernel_text(false).find(", at: " + site.text() + "\n") != std::string::npos);

  // JSON: the frame's line, then its inlined functions, innermost first.
  std::string file;
  lockdep::detail::append_json_string(file, site.file);
  const std::string chain = R"("file":)" + file + R"(,"line":)" + std::to_string(lines.outer) +
                            R"(,"inlined":[{"function":"inlined_calls::take_innermost","file":)" +
                            file + R"(,"line":)" + std::to_string(lines.innermost) +
                            R"(},{"function":"inlined_calls::take_through","file":)" + file +
                            R"(,"line":)" + std::to_string(lines.middle) + "}]";
  CHECK(found.json().find(chain) != std::string::npos);
}

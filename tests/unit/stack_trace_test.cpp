#include "stack_trace.hpp"

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "json_text.hpp"
#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"

using lockdep::stack_frame;
using lockdep::detail::capture_stack;
using lockdep::detail::readable_function_name;
using lockdep::detail::stack_store;
using lockdep::detail::symbolize;

namespace stack_trace_test {

// A call chain outermost -> middle -> innermost -> capture_stack. The empty asm after each call
// keeps it from becoming a tail call, which would remove the caller's frame.
[[gnu::noinline]] std::size_t innermost(std::uintptr_t* out, std::size_t max_frames,
                                        std::size_t skip) {
  const std::size_t captured = capture_stack(out, max_frames, skip);
  asm volatile("" ::: "memory");
  return captured;
}

[[gnu::noinline]] std::size_t middle(std::uintptr_t* out, std::size_t max_frames,
                                     std::size_t skip) {
  const std::size_t captured = innermost(out, max_frames, skip);
  asm volatile("" ::: "memory");
  return captured;
}

[[gnu::noinline]] std::size_t outermost(std::uintptr_t* out, std::size_t max_frames,
                                        std::size_t skip) {
  const std::size_t captured = middle(out, max_frames, skip);
  asm volatile("" ::: "memory");
  return captured;
}

// 100 frames fit unw_backtrace's buffer; 1000 need the frame-by-frame walk.
[[gnu::noinline]] void capture_shallow_and_deep(std::vector<std::uintptr_t>& shallow,
                                                std::vector<std::uintptr_t>& deep) {
  shallow.resize(100);
  shallow.resize(capture_stack(shallow.data(), shallow.size()));
  deep.resize(1000);
  deep.resize(capture_stack(deep.data(), deep.size()));
  asm volatile("" ::: "memory");
}

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

}  // namespace stack_trace_test

namespace {

[[gnu::noinline]] int internal_helper(int x) {
  asm volatile("" ::: "memory");
  return x * 3 + 1;
}

std::vector<std::uintptr_t> capture_through_chain(std::size_t max_frames, std::size_t skip = 0) {
  std::vector<std::uintptr_t> frames(max_frames);
  frames.resize(stack_trace_test::outermost(frames.data(), max_frames, skip));
  return frames;
}

// Asks the library itself rather than the global scope, where sanitizers interpose functions
// like strlen with their own.
std::uintptr_t address_in(const char* library, const char* exported_name) {
  void* const handle = dlopen(library, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return 0;
  const auto address = reinterpret_cast<std::uintptr_t>(dlsym(handle, exported_name));
  dlclose(handle);
  return address;
}

template <typename Function>
std::uintptr_t address_of(Function* function) {
  return reinterpret_cast<std::uintptr_t>(function);
}

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
  return frame.file.ends_with("/stack_trace_test.cpp") &&
         frame.line > stack_trace_test::located_first_line &&
         frame.line < stack_trace_test::located_last_line;
}

}  // namespace

TEST_CASE("capture_stack records its callers innermost first", "[stack_trace]") {
  const std::vector<std::uintptr_t> frames = capture_through_chain(64);
  REQUIRE(frames.size() >= 4);  // the chain plus the test case itself

  const lockdep::stack_trace trace = symbolize(std::span(frames).first(3));
  CHECK(trace[0].function == "stack_trace_test::innermost");
  CHECK(trace[1].function == "stack_trace_test::middle");
  CHECK(trace[2].function == "stack_trace_test::outermost");
  for (const stack_frame& frame : trace) {
    CHECK(frame.module.empty());
    CHECK(frame.offset > 0);  // a return address lies after the call instruction
    CHECK(frame.offset < frame.size);
  }
}

TEST_CASE("capture_stack skips the requested innermost frames", "[stack_trace]") {
  // Every capture passes through the same chain, so the chain's return addresses are the same.
  std::vector<std::vector<std::uintptr_t>> captures;
  for (std::size_t skip = 0; skip < 3; ++skip) captures.push_back(capture_through_chain(64, skip));

  REQUIRE(captures[0].size() >= 4);
  CHECK(captures[1].size() == captures[0].size() - 1);
  CHECK(captures[2].size() == captures[0].size() - 2);
  CHECK(captures[1][0] == captures[0][1]);
  CHECK(captures[2][0] == captures[0][2]);
  CHECK(symbolize(captures[1][0]).function == "stack_trace_test::middle");

  // The same through the frame-by-frame walk that deep requests take.
  const std::vector<std::uintptr_t> deep = capture_through_chain(1000, 1);
  CHECK(deep.size() == captures[1].size());
  CHECK(deep[0] == captures[0][1]);
}

TEST_CASE("capture_stack writes at most max_frames", "[stack_trace]") {
  std::vector<std::vector<std::uintptr_t>> captures;
  for (const std::size_t max_frames : std::array<std::size_t, 3>{64, 2, 0}) {
    captures.push_back(capture_through_chain(max_frames));
  }

  REQUIRE(captures[1].size() == 2);
  CHECK(captures[1][0] == captures[0][0]);
  CHECK(captures[1][1] == captures[0][1]);
  CHECK(captures[2].empty());
}

TEST_CASE("deep capture requests give the same frames as shallow ones", "[stack_trace]") {
  std::vector<std::uintptr_t> fast;
  std::vector<std::uintptr_t> slow;
  stack_trace_test::capture_shallow_and_deep(fast, slow);

  // The stack here is shallower than both requests, so both must see all of it.
  REQUIRE(fast.size() >= 2);
  CHECK(fast.size() < 100);
  REQUIRE(slow.size() == fast.size());
  // The two captures are made from different places in the same function...
  CHECK(fast[0] != slow[0]);
  CHECK(symbolize(fast[0]).function == "stack_trace_test::capture_shallow_and_deep");
  CHECK(symbolize(slow[0]).function == "stack_trace_test::capture_shallow_and_deep");
  // ...whose callers are all the same.
  CHECK(std::ranges::equal(std::span(fast).subspan(1), std::span(slow).subspan(1)));
}

TEST_CASE("symbolize names functions of the main program without a module", "[stack_trace]") {
  const std::uintptr_t start = address_of(&stack_trace_test::outermost);

  const stack_frame at_start = symbolize(start, false);
  CHECK(at_start.address == start);
  CHECK(at_start.function == "stack_trace_test::outermost");
  CHECK(at_start.offset == 0);
  CHECK(at_start.size > 0);
  CHECK(at_start.module.empty());

  const stack_frame inside = symbolize(start + 1, false);
  CHECK(inside.function == "stack_trace_test::outermost");
  CHECK(inside.offset == 1);
  CHECK(inside.size == at_start.size);
}

TEST_CASE("symbolize looks a return address up one byte earlier", "[stack_trace]") {
  const std::uintptr_t start = address_of(&stack_trace_test::middle);

  // The call instruction of return address `start + 1` is at `start`, but its offset is still
  // reported from the return address itself.
  const stack_frame after_first_byte = symbolize(start + 1, true);
  CHECK(after_first_byte.function == "stack_trace_test::middle");
  CHECK(after_first_byte.offset == 1);

  // A call ending right before `start` belongs to whatever precedes middle.
  CHECK(symbolize(start, true).function != "stack_trace_test::middle");
  CHECK(symbolize(start, false).function == "stack_trace_test::middle");
}

TEST_CASE("symbolize names internal functions from the symbol table", "[stack_trace]") {
  int (*volatile helper)(int) = &internal_helper;
  REQUIRE(helper(1) == 4);

  const stack_frame frame = symbolize(address_of(helper) + 2, false);
  CHECK(frame.function == "(anonymous namespace)::internal_helper");
  CHECK(frame.offset == 2);
  CHECK(frame.size > 2);
  CHECK(frame.module.empty());
}

TEST_CASE("symbolize names shared libraries like kernel modules", "[stack_trace]") {
  SECTION("an exported libc function") {
    const std::uintptr_t getenv_address = address_in("libc.so.6", "getenv");
    REQUIRE(getenv_address != 0);
    const stack_frame frame = symbolize(getenv_address + 4, false);
    CHECK(frame.function == "getenv");
    CHECK(frame.module == "libc");
    CHECK(frame.offset == 4);
    CHECK(frame.size > 4);
    CHECK(frame.text() ==
          "getenv+0x4/0x" + (std::ostringstream() << std::hex << frame.size).str() + " [libc]");
  }
  SECTION("strlen") {
    // strlen is an IFUNC: its address is that of an implementation libc does not export, whose
    // size comes from the unwind information.
    const std::uintptr_t strlen_address = address_in("libc.so.6", "strlen");
    REQUIRE(strlen_address != 0);
    const stack_frame frame = symbolize(strlen_address + 4, false);
    CHECK(frame.module == "libc");
    CHECK(frame.size > 0);
    CHECK(frame.offset >= 4);
    CHECK(frame.offset < frame.size);
    // libc has no symbol for it (it is stripped); the nearest exported symbol below is unrelated.
    CHECK_THAT(frame.function, Catch::Equals("") || Catch::Contains("strlen"));
  }
  SECTION("a library whose name has more than letters") {
    const std::uintptr_t demangle_address = address_in("libstdc++.so.6", "__cxa_demangle");
    REQUIRE(demangle_address != 0);
    const stack_frame frame = symbolize(demangle_address + 1, false);
    CHECK(frame.function == "__cxa_demangle");
    CHECK(frame.module == "libstdc++");
  }
}

TEST_CASE("symbolize leaves addresses outside any object unnamed", "[stack_trace]") {
  const stack_frame frame = symbolize(0x10, false);
  CHECK(frame.address == 0x10);
  CHECK(frame.function.empty());
  CHECK(frame.module.empty());
  CHECK(frame.size == 0);
  CHECK(frame.text() == "0x10");
}

TEST_CASE("symbolize gives the same answers from many threads", "[stack_trace]") {
  const std::vector<std::uintptr_t> frames = capture_through_chain(64);
  const lockdep::stack_trace expected = symbolize(frames);

  std::vector<lockdep::stack_trace> results(4);
  std::vector<std::thread> threads;
  for (lockdep::stack_trace& result : results) {
    threads.emplace_back([&] {
      for (int round = 0; round < 50; ++round) result = symbolize(frames);
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (const lockdep::stack_trace& result : results) {
    REQUIRE(result.size() == expected.size());
    for (std::size_t i = 0; i < result.size(); ++i) CHECK(result[i].text() == expected[i].text());
  }
}

TEST_CASE("stack_frame::text prints the kernel's %pS", "[stack_trace]") {
  stack_frame frame;
  frame.address = 0xffffffff81234567;
  frame.function = "lock_acquire";
  frame.offset = 0x3f;
  frame.size = 0x320;
  CHECK(frame.text() == "lock_acquire+0x3f/0x320");

  frame.module = "btrfs";
  CHECK(frame.text() == "lock_acquire+0x3f/0x320 [btrfs]");

  frame.offset = 0xABC;
  frame.size = 0;
  CHECK(frame.text() == "lock_acquire+0xabc/0x0 [btrfs]");

  frame.function.clear();
  CHECK(frame.text() == "0xffffffff81234567 [btrfs]");

  frame.module.clear();
  CHECK(frame.text() == "0xffffffff81234567");
}

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
  const std::uintptr_t return_address = stack_trace_test::return_address_here();
  const stack_frame frame = symbolize(return_address);
  CHECK(frame.function == "stack_trace_test::return_address_here");
  INFO(frame.file << ":" << frame.line);
  CHECK(frame.file.starts_with("/"));  // as recorded: CMake compiles absolute paths
  CHECK(in_located_code(frame));
  CHECK(frame.text().find("stack_trace_test.cpp") == std::string::npos);

  // An acquisition ip is looked up as it is: the function's first instruction is on the line
  // of its opening.
  const stack_frame start = symbolize(address_of(&stack_trace_test::take_in_order), false);
  CHECK(start.function == "stack_trace_test::take_in_order");
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
  stack_trace_test::take_in_order(a, b);
  stack_trace_test::take_in_order(b, a);
  REQUIRE(capture.count() == 1);
  const lockdep::report found = capture.only();

  // The second call takes located_a holding located_b, at the call in take_in_order that
  // recorded located_a --> located_b in the first: the lock line and both chain entries show it.
  const stack_frame& site = found.acquiring.acquired_at;
  INFO(site.file << ":" << site.line);
  REQUIRE(in_located_code(site));
  const std::string location = "(" + site.file + ":" + std::to_string(site.line) + ")";
  const std::string decoded_site = "stack_trace_test::take_in_order " + location;
  const std::vector<std::string> decoded = found.kernel_lines(true);
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
    CHECK(kernel[i].find("stack_trace_test.cpp:") == std::string::npos);
    if (kernel[i] == decoded[i]) continue;
    CHECK(std::regex_search(decoded[i], decoded_frame));
    CHECK(std::regex_search(kernel[i], kernel_frame));
  }
  CHECK(std::ranges::count(kernel, "       " + site.text()) == 2);
  CHECK(site.text().starts_with("stack_trace_test::take_in_order+0x"));
  CHECK(found.kernel_text(false).find(", at: " + site.text() + "\n") != std::string::npos);
  CHECK(found.kernel_text(true).find("stack_trace_test.cpp:") != std::string::npos);

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
                R"("file":"/src/app/take.cpp","line":42,"text":"take+0x4/0x10"})");

  frame.file.clear();
  frame.line = 0;
  json.clear();
  lockdep::detail::append_json_frame(json, frame);
  CHECK(json.find(R"("module":"","file":"","line":0,"text":)") != std::string::npos);
}

TEST_CASE("stack_store deduplicates traces", "[stack_trace]") {
  stack_store store(100);
  const std::vector<std::uintptr_t> trace{0x1000, 0x2000, 0x3000};

  const stack_store::trace_id first = store.intern(trace);
  CHECK(first == 1);
  const std::vector<std::uintptr_t> same_trace = trace;  // equal contents, other storage
  CHECK(store.intern(same_trace) == first);
  CHECK(store.trace_count() == 1);
  CHECK(store.entries_used() == 3);

  const auto stored = store.frames(first);
  CHECK(std::vector(stored.begin(), stored.end()) == trace);
}

TEST_CASE("stack_store tells different traces apart", "[stack_trace]") {
  stack_store store(100);
  const std::vector<std::vector<std::uintptr_t>> traces{
      {0x1000, 0x2000, 0x3000}, {0x3000, 0x2000, 0x1000}, {0x1000, 0x2000}, {0x2000, 0x3000}};

  std::vector<stack_store::trace_id> ids;
  for (const auto& trace : traces) ids.push_back(store.intern(trace));

  CHECK(ids == std::vector<stack_store::trace_id>{1, 2, 3, 4});
  CHECK(store.entries_used() == 10);
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const auto stored = store.frames(ids[i]);
    CHECK(std::vector(stored.begin(), stored.end()) == traces[i]);
  }
}

TEST_CASE("stack_store keeps many traces retrievable", "[stack_trace]") {
  stack_store store(1 << 16);
  std::vector<stack_store::trace_id> ids;
  for (std::uintptr_t i = 0; i < 2000; ++i) ids.push_back(store.intern(std::array{i, i + 1, i}));

  CHECK(store.trace_count() == 2000);
  for (std::uintptr_t i = 0; i < 2000; ++i) {
    CHECK(ids[i] == i + 1);
    const auto stored = store.frames(ids[i]);
    REQUIRE(stored.size() == 3);
    CHECK(stored[0] == i);
    CHECK(stored[1] == i + 1);
  }
  for (std::uintptr_t i = 0; i < 2000; ++i) CHECK(store.intern(std::array{i, i + 1, i}) == i + 1);
  CHECK(store.trace_count() == 2000);
}

TEST_CASE("stack_store answers no_trace for empty traces and unknown ids", "[stack_trace]") {
  stack_store store(10);
  CHECK(store.intern({}) == stack_store::no_trace);
  CHECK(store.trace_count() == 0);
  CHECK(store.frames(stack_store::no_trace).empty());
  CHECK(store.frames(1).empty());

  const stack_store::trace_id id = store.intern(std::array<std::uintptr_t, 1>{0x42});
  CHECK(store.frames(id).size() == 1);
  CHECK(store.frames(id + 1).empty());
}

TEST_CASE("stack_store respects its entry budget", "[stack_trace]") {
  stack_store store(5);
  CHECK(store.max_entries() == 5);
  const std::vector<std::uintptr_t> three{1, 2, 3};

  const stack_store::trace_id stored = store.intern(three);
  REQUIRE(stored != stack_store::no_trace);
  CHECK(store.intern(std::vector<std::uintptr_t>{4, 5, 6}) == stack_store::no_trace);
  CHECK(store.entries_used() == 3);

  CHECK(store.intern(std::vector<std::uintptr_t>{4, 5}) != stack_store::no_trace);  // exactly full
  CHECK(store.entries_used() == 5);
  CHECK(store.intern(std::vector<std::uintptr_t>{7}) == stack_store::no_trace);
  // A trace already stored needs no room.
  CHECK(store.intern(three) == stored);
  CHECK(store.trace_count() == 2);
}

TEST_CASE("stack_store::clear forgets every trace", "[stack_trace]") {
  stack_store store(5);
  const std::vector<std::uintptr_t> trace{1, 2, 3, 4, 5};
  const stack_store::trace_id before = store.intern(trace);
  REQUIRE(store.intern(std::vector<std::uintptr_t>{6}) == stack_store::no_trace);

  store.clear();
  CHECK(store.entries_used() == 0);
  CHECK(store.trace_count() == 0);
  CHECK(store.frames(before).empty());

  const std::vector<std::uintptr_t> other{6, 7};
  CHECK(store.intern(other) == 1);
  const auto stored = store.frames(1);
  CHECK(std::vector(stored.begin(), stored.end()) == other);
}

TEST_CASE("stack_store can be moved", "[stack_trace]") {
  stack_store store(10);
  const std::vector<std::uintptr_t> trace{1, 2, 3};
  const stack_store::trace_id id = store.intern(trace);

  stack_store moved = std::move(store);
  const auto stored = moved.frames(id);
  CHECK(std::vector(stored.begin(), stored.end()) == trace);
  CHECK(moved.intern(trace) == id);
  CHECK(moved.max_entries() == 10);
}

TEST_CASE("readable_function_name strips C++ signatures", "[stack_trace]") {
  // Each mangled name is what g++ emits for the function in the comment.
  const std::vector<std::pair<const char*, std::string>> cases{
      // lockdep::mutex::lock()
      {"_ZN7lockdep5mutex4lockEv", "lockdep::mutex::lock"},
      // void ns::f<int>(int)
      {"_ZN2ns1fIiEEvT_", "ns::f<int>"},
      // unsigned long ns::g<int>(int)
      {"_ZN2ns1gIiEEmT_", "ns::g<int>"},
      // ns::S::operator()(int) const
      {"_ZNK2ns1SclEi", "ns::S::operator()"},
      // ns::operator<(ns::X const&, ns::X const&)
      {"_ZN2nsltERKNS_1XES2_", "ns::operator<"},
      // ns::operator<<(std::ostream&, ns::X const&)
      {"_ZN2nslsERSoRKNS_1XE", "ns::operator<<"},
      // ns::P::operator->()
      {"_ZN2ns1PptEv", "ns::P::operator->"},
      // ns::X::operator<=>(ns::X const&) const
      {"_ZNK2ns1XssERKS0_", "ns::X::operator<=>"},
      // bool ns::operator< <int>(ns::Y<int> const&, ns::Y<int> const&)
      {"_ZN2nsltIiEEbRKNS_1YIT_EES5_", "ns::operator< <int>"},
      // bool ns::operator><int>(ns::Y<int> const&, ns::Y<int> const&)
      {"_ZN2nsgtIiEEbRKNS_1YIT_EES5_", "ns::operator><int>"},
      // ns::S::operator[](int)
      {"_ZN2ns1SixEi", "ns::S::operator[]"},
      // ns::S::operator bool() const
      {"_ZNK2ns1ScvbEv", "ns::S::operator bool"},
      // ns::S::operator new(unsigned long)
      {"_ZN2ns1SnwEm", "ns::S::operator new"},
      // ns::S::operator delete[](void*)
      {"_ZN2ns1SdaEPv", "ns::S::operator delete[]"},
      // (anonymous namespace)::helper(int)
      {"_ZN12_GLOBAL__N_16helperEi", "(anonymous namespace)::helper"},
      // main::{lambda()#1}::operator()() const
      {"_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()"},
      // std::vector<int, std::allocator<int> >::push_back(int const&)
      {"_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back"},
      // ns::S::S(), ns::S::~S()
      {"_ZN2ns1SC2Ev", "ns::S::S"},
      {"_ZN2ns1SD2Ev", "ns::S::~S"},
      // ns::S::f() &, ns::S::f() &&
      {"_ZNR2ns1S1fEv", "ns::S::f"},
      {"_ZNO2ns1S1fEv", "ns::S::f"},
      // non-virtual thunk to ns::D::f()
      {"_ZThn8_N2ns1D1fEv", "non-virtual thunk to ns::D::f"},
  };
  for (const auto& [mangled, expected] : cases) {
    INFO(mangled);
    CHECK(readable_function_name(mangled) == expected);
  }
}

TEST_CASE("readable_function_name keeps GCC clone suffixes as the kernel prints them",
          "[stack_trace]") {
  CHECK(readable_function_name("_Z3foov.part.0") == "foo.part.0");
  CHECK(readable_function_name("_Z3foov.constprop.0") == "foo.constprop.0");
  CHECK(readable_function_name("_Z3foov.isra.0") == "foo.isra.0");
  CHECK(readable_function_name("_Z3foov.cold") == "foo.cold");
  CHECK(readable_function_name("_Z3foov.constprop.0.isra.0") == "foo.constprop.0.isra.0");
  CHECK(readable_function_name("_ZNK2ns1S1fEv.part.0") == "ns::S::f.part.0");
}

TEST_CASE("readable_function_name leaves C names and non-functions alone", "[stack_trace]") {
  CHECK(readable_function_name("main") == "main");
  CHECK(readable_function_name("pcpu_alloc") == "pcpu_alloc");
  CHECK(readable_function_name("pcpu_alloc.part.0") == "pcpu_alloc.part.0");
  CHECK(readable_function_name("f") == "f");  // a C function, not the type "float"
  CHECK(readable_function_name("_Zgarbage") == "_Zgarbage");
  // Demangled, but with no signature to strip.
  CHECK(readable_function_name("_ZTVN2ns1SE") == "vtable for ns::S");
  CHECK(readable_function_name(nullptr).empty());
}

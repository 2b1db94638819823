#include "function_names.hpp"
#include "stack_capture.hpp"
#include "symbolization.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <regex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "library_addresses.hpp"
#include "lockdep/lockdep.hpp"
#include "lockdep/testing.hpp"

using lockdep::stack_frame;
using lockdep::detail::capture_stack;
using lockdep::detail::readable_function_name;
using lockdep::detail::symbolize;
using lockdep_test::address_in;
using lockdep_test::address_of;

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

namespace stack_trace_test {

// Takes `outer` then `inner` under `depth` more frames of recursion.
[[gnu::noinline]] void lock_pair_deep(lockdep::mutex& outer, lockdep::mutex& inner, int depth) {
  if (depth > 0) {
    lock_pair_deep(outer, inner, depth - 1);
  } else {
    outer.lock();
    inner.lock();
    inner.unlock();
    outer.unlock();
  }
  asm volatile("" ::: "memory");  // not a tail call: every level keeps its frame
}

}  // namespace stack_trace_test

TEST_CASE("a dependency's trace starts at the lock function, however deep the stack",
          "[stack_trace]") {
  // Deeper than the frames kept, so the capture must stop early yet still find the caller.
  lockdep::testing::report_capture capture;
  lockdep::mutex outer{"deep_outer"};
  lockdep::mutex inner{"deep_inner"};
  stack_trace_test::lock_pair_deep(outer, inner, 80);
  inner.lock();
  outer.lock();
  outer.unlock();
  inner.unlock();
  REQUIRE(capture.count() == 1);
  const lockdep::report found = capture.only();
  REQUIRE(found.chain.size() == 2);
  const lockdep::stack_trace& recorded = found.chain[0].trace;  // deep_outer --> deep_inner
  REQUIRE(found.chain[0].class_name == "deep_inner");
  CHECK(recorded.size() == lockdep::options{}.stack_depth);
  REQUIRE(recorded.size() >= 2);
  CHECK(recorded[0].function == "lockdep::mutex::lock");
  CHECK(recorded[1].function == "stack_trace_test::lock_pair_deep");
  for (const stack_frame& frame : recorded) {
    INFO(frame.function);
    CHECK(frame.function.find("lockdep::detail") == std::string::npos);
  }
}

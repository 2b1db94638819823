// Locks in memory the program frees without *_destroy (std::mutex never calls it): under
// lockdep-run, free, realloc, reallocarray, operator delete and munmap make the validator forget
// them, so a new lock at the same address starts clean, and a held one is reported as freed.
// Each scenario is also run with watch_frees=0, where the reused address must produce the false
// cycle the watch exists to prevent: the scenario really reuses memory.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "run_under_lockdep.hpp"

namespace {

using preload_test::find_line;
using preload_test::program_path;
using preload_test::report_titles;
using preload_test::run_result;
using preload_test::run_under_lockdep;

const std::string circular = "WARNING: possible circular locking dependency detected";
const std::string held_lock_freed = "WARNING: held lock freed!";

run_result run(const std::string& program, const std::string& arguments,
               const std::string& options = "", const std::string& environment = "") {
  run_result result =
      run_under_lockdep(program_path(program), "'" + arguments + "'", options, 30, environment);
  std::string text;
  for (const std::string& line : result.lines) text += line + "\n";
  UNSCOPED_INFO(program << " " << arguments << " [" << options << "] output:\n" << text);
  return result;
}

// A scenario is clean with the watch, and gives a false cycle without it.
void require_forgotten(const std::string& program, const std::string& scenario,
                       const std::string& environment = "") {
  run_result watched = run(program, scenario, "", environment);
  CHECK(report_titles(watched.lines).empty());
  CHECK(watched.exit_status == 0);
  CHECK(find_line(watched.lines, "done") < watched.lines.size());

  run_result unwatched = run(program, scenario, "watch_frees=0", environment);
  CHECK(report_titles(unwatched.lines) == std::vector<std::string>{circular});
}

// The shared allocators Debian ships, where installed (.ci/bootstrap installs them).
std::vector<std::string> installed_allocators() {
  std::vector<std::string> found;
  for (const char* library : {"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
                              "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
                              "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"}) {
    if (access(library, R_OK) == 0) found.push_back(library);
  }
  return found;
}

}  // namespace

TEST_CASE("freed memory: a std::mutex in deleted objects starts clean at a reused address",
          "[preload][freed_memory]") {
  for (const char* scenario : {"delete", "delete[]", "unsized", "shared_ptr", "unique_ptr"}) {
    SECTION(scenario) {
      require_forgotten("heap_reuse", scenario);
    }
  }
}

TEST_CASE("freed memory: a pthread mutex in malloc'ed memory freed without destroy starts clean",
          "[preload][freed_memory]") {
  for (const char* scenario : {"free", "calloc", "realloc", "reallocarray", "munmap"}) {
    SECTION(scenario) {
      require_forgotten("malloc_reuse", scenario);
    }
  }
}

TEST_CASE("freed memory: freeing a held lock is reported with the freeing frame",
          "[preload][freed_memory]") {
  run_result freed = run("malloc_reuse", "held");
  REQUIRE(report_titles(freed.lines) == std::vector<std::string>{held_lock_freed});
  CHECK(freed.exit_status == 66);
  // The freed range is the whole malloc'ed struct, its mutex inside it.
  CHECK(find_line(freed.lines, R"(malloc_reuse/\d+ is freeing memory [0-9a-f]{16}-[0-9a-f]{16}, )"
                               R"(with a lock still held there!)") < freed.lines.size());
  const std::size_t trace = find_line(freed.lines, "Call Trace:");
  REQUIRE(trace < freed.lines.size());
  // The trace starts at free(), the function the program called (the validator's own code in
  // it is not shown), called from the program's function that freed the lock.
  const std::size_t free_frame = trace + 1;
  REQUIRE(free_frame < freed.lines.size());
  CHECK(freed.lines[free_frame] == " free");
  CHECK(find_line(freed.lines, R"( free_while_held .*malloc_reuse\.c:\d+\))", trace) ==
        free_frame + 1);

  run_result deleted = run("heap_reuse", "held");
  REQUIRE(report_titles(deleted.lines) == std::vector<std::string>{held_lock_freed});
  CHECK(deleted.exit_status == 66);
  CHECK(find_line(deleted.lines, R"( .*destroy_held_connection .*heap_reuse\.cpp:\d+\))") <
        deleted.lines.size());
}

TEST_CASE("freed memory: an allocator library that takes pthread locks, frees in every thread",
          "[preload][freed_memory]") {
  // No hang (timeout's 124), no false cycle from blocks reused across threads.
  run_result clean = run("frees_in_threads", "");
  CHECK(report_titles(clean.lines).empty());
  CHECK(clean.exit_status == 0);
  run_result unwatched = run("frees_in_threads", "", "watch_frees=0");
  CHECK(report_titles(unwatched.lines) == std::vector<std::string>{circular});
  // The validator stays on: a real inversion afterwards is reported.
  run_result inverted = run("frees_in_threads", "inversion");
  CHECK(report_titles(inverted.lines) == std::vector<std::string>{circular});
  CHECK(inverted.exit_status == 66);
  // With the validator's own threads too.
  run_result watched = run("frees_in_threads", "", "hang_timeout=30:dump_signal=SIGUSR2");
  CHECK(report_titles(watched.lines).empty());
  CHECK(watched.exit_status == 0);
}

TEST_CASE("freed memory: jemalloc, tcmalloc and mimalloc brought by the program",
          "[preload][freed_memory]") {
  const std::vector<std::string> allocators = installed_allocators();
  if (allocators.empty()) WARN("no shared allocator installed: run .ci/bootstrap");
  for (const std::string& allocator : allocators) {
    // These define operator delete themselves: a C++ delete never reaches free().
    const std::string environment = "LD_PRELOAD=" + allocator;
    SECTION(allocator) {
      for (const char* scenario : {"delete", "delete[]", "unsized", "shared_ptr", "unique_ptr"}) {
        run_result result = run("heap_reuse", scenario, "", environment);
        CHECK(report_titles(result.lines).empty());
        CHECK(result.exit_status == 0);
      }
      for (const char* scenario : {"free", "calloc", "realloc", "reallocarray", "munmap"}) {
        run_result result = run("malloc_reuse", scenario, "", environment);
        CHECK(report_titles(result.lines).empty());
        CHECK(result.exit_status == 0);
      }
      run_result held = run("heap_reuse", "held", "", environment);
      CHECK(report_titles(held.lines) == std::vector<std::string>{held_lock_freed});
    }
  }
}

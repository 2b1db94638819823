// The pthread test programs (programs/*.c) under lockdep-run: each must print exactly the report
// its scenario calls for (or none), and lockdep-run must exit with 66 after a report, with the
// program's own status otherwise. Programs that really deadlock run under `timeout`: their
// report must be out before the hang, and the status is then timeout's 124.
#include <algorithm>
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
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
const std::string recursive = "WARNING: possible recursive locking detected";
const std::string held_lock_freed = "WARNING: held lock freed!";
const std::string bad_unlock = "WARNING: bad unlock balance detected!";

void log_output(const run_result& result) {
  std::string text;
  for (const std::string& line : result.lines) text += line + "\n";
  UNSCOPED_INFO("output:\n" << text);
}

run_result run(const std::string& program, const std::string& arguments = "",
               const std::string& options = "", int timeout_seconds = 0) {
  run_result result = run_under_lockdep(program_path(program), arguments, options, timeout_seconds);
  log_output(result);
  return result;
}

void require_one_report(const run_result& result, const std::string& title) {
  REQUIRE(report_titles(result.lines) == std::vector<std::string>{title});
}

void require_no_report(const run_result& result) {
  CHECK(report_titles(result.lines).empty());
}

}  // namespace

TEST_CASE("preload: AA on a normal mutex is reported before it hangs", "[preload]") {
  // The kernel's text: frames as %pS, without source lines.
  run_result result = run("aa", "", "source_locations=0", 3);
  require_one_report(result, recursive);
  CHECK(result.exit_status == 124);
  // The acquisition site is the program's call, the trace starts at the interposer. The
  // mutex, on the stack, is named after the line that initialised it.
  CHECK(find_line(result.lines, R"(.*is trying to acquire lock:)") < result.lines.size());
  CHECK(find_line(result.lines, R"(.*\(aa\.c:7\)\{\+\.\+\.\}, at: main\+0x.*)") <
        result.lines.size());
  CHECK(find_line(result.lines,
                  R"( pthread_mutex_lock\+0x[0-9a-f]+/0x[0-9a-f]+ \[liblockdep_preload\])") <
        result.lines.size());
}

TEST_CASE("preload: report frames show the program's source lines", "[preload]") {
  // The test programs are built with -g: with the default source_locations=1 their frames read
  // as decode_stacktrace.sh decodes them. aa.c takes the mutex on lines 8 and 9.
  // Paths relative to the source root: the project's directory here.
  const std::string relative = std::string("source_root=") + LOCKDEP_SOURCE_DIR;
  run_result result = run("aa", "", relative.c_str(), 3);
  require_one_report(result, recursive);
  CHECK(find_line(result.lines,
                  R"([0-9a-f]{16} \(aa\.c:7\)\{\+\.\+\.\}, at: )"
                  R"(main \(tests/preload/programs/aa\.c:9\))") < result.lines.size());
  CHECK(find_line(result.lines,
                  R"( #0: [0-9a-f]{16} \(aa\.c:7\)\{\+\.\+\.\}, at: )"
                  R"(main \(tests/preload/programs/aa\.c:8\))") < result.lines.size());
  // The trace starts at the lock function the program called, shown by its name alone (the
  // interposer's source is the validator's business), then the program's line.
  const std::size_t call_trace = find_line(result.lines, "Call Trace:");
  REQUIRE(call_trace + 2 < result.lines.size());
  CHECK(result.lines[call_trace + 1] == " pthread_mutex_lock");
  CHECK(result.lines[call_trace + 2] == " main (tests/preload/programs/aa.c:9)");

  // absolute_paths=1: paths as the debug information records them.
  const std::string absolute = relative + ":absolute_paths=1";
  run_result as_recorded = run("aa", "", absolute.c_str(), 3);
  const std::string recorded_line =
      " main (" + std::string(LOCKDEP_SOURCE_DIR) + "/tests/preload/programs/aa.c:9)";
  CHECK(std::ranges::count(as_recorded.lines, recorded_line) == 1);
}

TEST_CASE("preload: ABA is reported as recursive locking", "[preload]") {
  run_result result = run("aba", "", "", 3);
  require_one_report(result, recursive);
  CHECK(result.exit_status == 124);
}

TEST_CASE("preload: ABBA in one thread is reported, destroy forgets the old order", "[preload]") {
  run_result result = run("abba");
  require_one_report(result, circular);
  std::size_t clean_round = find_line(result.lines, "a->b after re-initialisation: fine");
  REQUIRE(clean_round < result.lines.size());
  CHECK(find_line(result.lines, circular) > clean_round);
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: ABBA across two threads with static initialisers is reported", "[preload]") {
  run_result result = run("abba_threads");
  require_one_report(result, circular);
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: a real two-thread deadlock is reported before the hang", "[preload]") {
  run_result result = run("abba_deadlock", "", "", 10);
  require_one_report(result, circular);
  CHECK(find_line(result.lines, "not reached") == result.lines.size());
  CHECK(find_line(result.lines, R"( \*\*\* DEADLOCK \*\*\*)") < result.lines.size());
  CHECK(result.exit_status == 124);
}

TEST_CASE("preload: a four-lock cycle (ABBCCDDA) is reported with its chain", "[preload]") {
  run_result result = run("long_cycle");
  require_one_report(result, circular);
  std::size_t chain = find_line(result.lines, "Chain exists of:");
  REQUIRE(chain + 1 < result.lines.size());
  // a, b, c and d are initialised on lines 6 to 9; taking a while holding d closes the cycle.
  CHECK(result.lines[chain + 1] == "  long_cycle.c:6 --> long_cycle.c:8 --> long_cycle.c:9");
  CHECK(find_line(result.lines, R"(-> #3 \(long_cycle\.c:9\)\{\+\.\+\.\}:)") < result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: recursive reads of default rwlocks are not reported", "[preload]") {
  run_result result = run("rwlock_read_recursion");
  require_no_report(result);
  CHECK(result.exit_status == 0);
}

TEST_CASE("preload: a read/write rwlock inversion is reported", "[preload]") {
  run_result result = run("rwlock_inversion");
  require_one_report(result, circular);
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: read/read inversion of writer-preferring rwlocks is reported", "[preload]") {
  run_result result = run("rwlock_writer_preferring", "", "source_locations=0");
  require_one_report(result, circular);
  // Non-recursive reads: the classes were only ever read-acquired. Taking a (initialised on
  // line 10) while holding b closes the cycle.
  CHECK(find_line(result.lines,
                  R"(.*\(rwlock_writer_preferring\.c:10\)\{\.\+\.\+\}, at: main\+0x.*)") <
        result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: spinlocks in ABBA order are reported", "[preload]") {
  run_result result = run("spin_abba", "", "source_locations=0");
  require_one_report(result, circular);
  CHECK(find_line(result.lines, R"( *pthread_spin_lock\+0x.*)") < result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: recursive mutexes relocked by their owner are not reported", "[preload]") {
  run_result result = run("recursive_mutex");
  require_no_report(result);
  CHECK(result.exit_status == 0);
}

TEST_CASE("preload: an error-checking relock is reported and still fails with EDEADLK",
          "[preload]") {
  run_result result = run("errorcheck_relock");
  require_one_report(result, recursive);
  CHECK(find_line(result.lines, "relock: EDEADLK") < result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: condition variable waits release and retake the mutex", "[preload]") {
  run_result result = run("condvar");
  require_no_report(result);
  CHECK(find_line(result.lines, "consumed 1000, timed wait: .*") < result.lines.size());
  CHECK(result.exit_status == 0);
}

TEST_CASE("preload: a trylock inversion is not reported", "[preload]") {
  run_result result = run("trylock_inversion");
  require_no_report(result);
  CHECK(result.exit_status == 0);
}

TEST_CASE("preload: destroying a held mutex is reported", "[preload]") {
  run_result result = run("destroy_locked");
  require_one_report(result, held_lock_freed);
  CHECK(find_line(result.lines, "destroy: EBUSY") < result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: a thread that returns holding a lock is reported", "[preload]") {
  run_result result = run("thread_exit_holding", "return");
  REQUIRE(report_titles(result.lines).size() == 1);
  CHECK(find_line(result.lines, R"(WARNING: returner/\d+ still has locks held!)") <
        result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: a thread that calls pthread_exit holding a lock is reported", "[preload]") {
  run_result result = run("thread_exit_holding", "pthread_exit");
  REQUIRE(report_titles(result.lines).size() == 1);
  CHECK(find_line(result.lines, R"(WARNING: exiter/\d+ still has locks held!)") <
        result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: a process that ends while a thread holds a lock is not reported", "[preload]") {
  // exit() from main, a return from main, exit() from another thread: the process ends and
  // leaks the lock to nobody (glibc still runs the exiting thread's thread_local destructors).
  for (const char* how : {"exit", "return", "thread_exit"}) {
    INFO(how);
    run_result result = run("process_exit_holding", how);
    require_no_report(result);
    CHECK(result.exit_status == 0);
  }
}

TEST_CASE("preload: main ending as a thread holding a lock is reported", "[preload]") {
  // pthread_exit from main: the process lives on (another thread), the lock is leaked.
  run_result result = run("process_exit_holding", "main_pthread_exit");
  REQUIRE(report_titles(result.lines).size() == 1);
  CHECK(find_line(result.lines, R"(WARNING: main_thread/\d+ still has locks held!)") <
        result.lines.size());
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: a program whose malloc takes pthread mutexes runs and is validated",
          "[preload]") {
  // Before the validator had a heap of its own, the first allocation hung (timeout: 124).
  run_result clean = run("own_allocator", "", "", 20);
  require_no_report(clean);
  CHECK(clean.exit_status == 0);
  CHECK(find_line(clean.lines, "done") < clean.lines.size());

  run_result inverted = run("own_allocator", "inversion", "", 20);
  require_one_report(inverted, circular);
  CHECK(inverted.exit_status == 66);

  // With the validator's own threads (created when it is, at load). Four threads contend, so
  // many waits are published to the watchdog at once, each capturing its stack: libunwind's own
  // mutexes are then busy too, and once went through the interposer and published waits of
  // their own, recursing until the stack overflowed (about one run in four).
  run_result watched = run("own_allocator", "", "hang_timeout=30:dump_signal=SIGUSR2", 20);
  require_no_report(watched);
  CHECK(watched.exit_status == 0);
}

TEST_CASE("preload: unlocking an unlocked mutex is reported", "[preload]") {
  run_result result = run("unlock_balance");
  require_one_report(result, bad_unlock);
  CHECK(result.exit_status == 66);
}

TEST_CASE("preload: without a report the program's own status is kept", "[preload]") {
  CHECK(run("clean_exit_status", "0").exit_status == 0);
  run_result failing = run("clean_exit_status", "3");
  require_no_report(failing);
  CHECK(failing.exit_status == 3);
}

TEST_CASE("preload: exitcode in LOCKDEP_OPTIONS replaces 66, silently for the validator",
          "[preload]") {
  run_result result = run("abba", "", "exitcode=7:keep_going=0");
  require_one_report(result, circular);
  CHECK(result.exit_status == 7);
  // The validator's parser must not call the preload's keys unknown.
  CHECK(find_line(result.lines, "lockdep: LOCKDEP_OPTIONS.*") == result.lines.size());
  // Its own errors still point at the right offset of the user's text.
  run_result mixed = run("clean_exit_status", "", "exitcode=9:bogus=1");
  CHECK(find_line(mixed.lines,
                  "lockdep: LOCKDEP_OPTIONS at offset 11: 'bogus' is not a known option; ignored") <
        mixed.lines.size());
  CHECK(mixed.exit_status == 0);
}

TEST_CASE("preload: a child after fork can lock and exit", "[preload]") {
  run_result result = run("fork_child", "", "", 60);
  require_no_report(result);
  CHECK(find_line(result.lines, "20 children exited cleanly") < result.lines.size());
  CHECK(result.exit_status == 0);
}

TEST_CASE("preload: fork while another thread prints reports leaves a working child", "[preload]") {
  run_result result = run("fork_while_reporting", "", "keep_going=1", 120);
  CHECK(find_line(result.lines, "20 children reported and exited cleanly") < result.lines.size());
  CHECK(result.exit_status == 66);  // reports were printed; the program itself exited 0
}

TEST_CASE("preload: concurrent init, nesting and destroy of short-lived locks", "[preload]") {
  run_result result = run("churn", "", "", 120);
  require_no_report(result);
  CHECK(find_line(result.lines, "churned 20000 lock sets") < result.lines.size());
  CHECK(result.exit_status == 0);
}

TEST_CASE("preload: 200,000 live mutexes fit the default tables", "[preload][capacity]") {
  // One class per mutex: 200,000 classes, 400,000 dependencies, 600,000 chains. A table too
  // small would print its `BUG: MAX_... too low!`, and a forget that scanned a global lock's
  // 200,000 dependencies per destroyed mutex would not finish within the timeout.
  run_result result = run("many_live_mutexes", "", "", 120);
  require_no_report(result);
  CHECK(find_line(result.lines, ".*too low!") == result.lines.size());
  CHECK(find_line(result.lines, "200000 live mutexes") < result.lines.size());
  CHECK(result.exit_status == 0);
}

TEST_CASE("preload: classes per call site with preload_classes=callsite", "[preload]") {
  run_result per_instance = run("callsite_classes");
  require_no_report(per_instance);
  CHECK(per_instance.exit_status == 0);

  run_result per_site = run("callsite_classes", "", "preload_classes=callsite");
  require_one_report(per_site, recursive);
  // The class is named after the init call site, as the kernel prints code addresses.
  CHECK(
      find_line(per_site.lines, R"(.*\(node_init\+0x[0-9a-f]+/0x[0-9a-f]+\)\{\+\.\+\.\}, at: .*)") <
      per_site.lines.size());
  CHECK(per_site.exit_status == 66);
}

TEST_CASE("preload: the C++ standard library's locks work through the interposers", "[preload]") {
  run_result clean = run("cxx_locks");
  require_no_report(clean);
  CHECK(find_line(clean.lines, "standard locks: done") < clean.lines.size());
  CHECK(clean.exit_status == 0);

  run_result inverted = run("cxx_locks", "abba");
  require_one_report(inverted, circular);
  CHECK(inverted.exit_status == 66);
}

TEST_CASE("preload: lockdep-run --graph and --json-log write the graph and the reports",
          "[preload]") {
  std::string base = "/tmp/lockdep_preload_graph_" + std::to_string(getpid());
  std::string graph = base + ".dot", reports = base + ".jsonl";
  std::remove(graph.c_str());
  std::remove(reports.c_str());
  run_result result = run_under_lockdep("--graph " + graph + " --json-log " + reports + " -- " +
                                        program_path("abba_threads"));
  log_output(result);
  require_one_report(result, circular);
  CHECK(result.exit_status == 66);
  std::ifstream dot_file(graph);
  std::string dot((std::istreambuf_iterator<char>(dot_file)), std::istreambuf_iterator<char>());
  CHECK(dot.rfind("digraph lockdep {", 0) == 0);
  CHECK(dot.find("refused: closes a cycle") != std::string::npos);
  std::ifstream json_file(reports);
  std::string line;
  REQUIRE(std::getline(json_file, line));
  CHECK(line.rfind("{\"kind\":\"circular_dependency\"", 0) == 0);
  CHECK_FALSE(std::getline(json_file, line));  // one report, one line
  std::remove(graph.c_str());
  std::remove(reports.c_str());
}

TEST_CASE("preload: lockdep-run refuses unknown flags and names with ':'", "[preload]") {
  run_result unknown = run_under_lockdep("--bogus " + program_path("abba_threads"));
  CHECK(unknown.exit_status == 2);
  CHECK(find_line(unknown.lines, "lockdep-run: unknown option --bogus.*") < unknown.lines.size());
  run_result colon = run_under_lockdep("--graph /tmp/a:b.dot " + program_path("abba_threads"));
  CHECK(colon.exit_status == 2);
}

TEST_CASE("preload: the hang watchdog lists both deadlocked threads' held locks", "[preload]") {
  // keep_going: the validator stays on after the circular report, so held locks are known.
  run_result result = run("abba_deadlock", "", "hang_timeout=1:keep_going=1:source_locations=0", 5);
  CHECK(result.exit_status == 124);
  std::size_t hung = find_line(
      result.lines, R"(INFO: task abba_deadlock:\d+ blocked for more than \d+ seconds\.)");
  REQUIRE(hung < result.lines.size());
  std::size_t listing = find_line(result.lines, "Showing all locks held in the system:", hung);
  REQUIRE(listing < result.lines.size());
  // Each thread holds its first lock and waits for the other's: two held locks each.
  std::size_t first = find_line(result.lines, R"(2 locks held by abba_deadlock/\d+:)", listing);
  REQUIRE(first < result.lines.size());
  CHECK(find_line(result.lines, R"(2 locks held by abba_deadlock/\d+:)", first + 1) <
        result.lines.size());
  // The mutexes are the file's statics, named by their variables.
  CHECK(find_line(result.lines, R"( #1: [0-9a-f]{16} \((a|b)\)\{\+\.\+\.\}, at: .*)", first) <
        result.lines.size());
  CHECK(find_line(result.lines, "=============================================", listing) <
        result.lines.size());
}

TEST_CASE("preload: after the validator turned off, a hang says lockdep is off", "[preload]") {
  run_result result = run("abba_deadlock", "", "hang_timeout=1:source_locations=0", 5);
  CHECK(result.exit_status == 124);
  std::size_t hung = find_line(
      result.lines, R"(INFO: task abba_deadlock:\d+ blocked for more than \d+ seconds\.)");
  REQUIRE(hung < result.lines.size());
  CHECK(find_line(result.lines, "INFO: lockdep is turned off.", hung) < result.lines.size());
  CHECK(find_line(result.lines, "Showing all locks held in the system:") == result.lines.size());
}

TEST_CASE("preload: a C++ inversion names its std::mutexes and shows the program's lines",
          "[preload]") {
  const std::string relative = std::string("source_root=") + LOCKDEP_SOURCE_DIR;
  const std::string shop = "tests/preload/programs/shop.cpp:";
  for (const char* level : {"0", "1", "2"}) {
    SECTION(std::string("-O") + level) {
      run_result result = run(std::string("shop_O") + level, "", relative);
      require_one_report(result, circular);
      CHECK(result.exit_status == 66);
      // The globals by their names; the heap mutex ship() holds by the line that first
      // locked it (a std::mutex is never initialised).
      CHECK(find_line(result.lines, R"([0-9a-f]{16} \(inventory\)\{\+\.\+\.\}, at: .*)") <
            result.lines.size());
      CHECK(find_line(result.lines, R"(-> #1 \(orders\)\{\+\.\+\.\}:)") < result.lines.size());
      CHECK(find_line(result.lines, R"(-> #0 \(inventory\)\{\+\.\+\.\}:)") < result.lines.size());
      CHECK(find_line(result.lines, R"( #0: [0-9a-f]{16} \(shop\.cpp:25\)\{\+\.\+\.\}, at: .*)") <
            result.lines.size());
      // Each acquisition of the cycle at the program's own line: orders under inventory in
      // restock (line 19), inventory under orders in ship (line 27).
      const std::size_t first = find_line(result.lines, R"(-> #1 .*)");
      const std::size_t second = find_line(result.lines, R"(-> #0 .*)");
      REQUIRE(second < result.lines.size());
      CHECK(find_line(result.lines, R"( +restock \()" + shop + R"(19\))", first) < second);
      CHECK(find_line(result.lines, R"( +ship \()" + shop + R"(27\))", second) <
            result.lines.size());
      // No trace shows the validator's code: each starts at the lock function called.
      CHECK(find_line(result.lines, R"(.*lockdep/preload/.*)") == result.lines.size());
      CHECK(result.lines[first + 1] == "       pthread_mutex_lock");
    }
  }
}

TEST_CASE("preload: runs of standard library frames fold into one line unless asked", "[preload]") {
  run_result folded = run("shop_O0");
  require_one_report(folded, circular);
  // std::thread's plumbing below the thread's function: _State_impl::_M_run, _Invoker, invoke.
  CHECK(find_line(folded.lines, R"( +\.\.\. \d+ C\+\+ standard library frames .*)") <
        folded.lines.size());
  CHECK(find_line(folded.lines, R"( +std::thread::_State_impl<.*)") == folded.lines.size());
  // How the lock was taken stays: std::lock_guard's constructor above the program's line.
  CHECK(find_line(folded.lines, R"( +std::lock_guard<std::mutex>::lock_guard .*)") <
        folded.lines.size());

  run_result all = run("shop_O0", "", "std_frames=1");
  require_one_report(all, circular);
  CHECK(find_line(all.lines, R"( +\.\.\. \d+ C\+\+ standard library frames .*)") ==
        all.lines.size());
  CHECK(find_line(all.lines, R"( +std::thread::_State_impl<.*)") < all.lines.size());
}

TEST_CASE("preload: relative dump paths are written where the program started", "[preload]") {
  // The test runs from its build directory; the program moves to "/" before it exits and writes
  // its dump then.
  const std::string name = "chdir_daemon_dump.txt";
  std::remove(name.c_str());
  run_result result = run("chdir_daemon", "", "dump_path=" + name);
  CHECK(result.exit_status == 0);
  std::ifstream dump(name);
  REQUIRE(dump.good());
  std::string first_line;
  std::getline(dump, first_line);
  CHECK(first_line == "all lock classes:");
  std::remove(name.c_str());
}

#ifdef GALLERY_ABBA
TEST_CASE("preload: a program with its own validator runs under lockdep-run without hanging",
          "[preload]") {
  // gallery_abba links the validating library: its validator captures stacks with libunwind,
  // whose lock the preload's validator would take again on the same thread. It must finish, with
  // its own report of the inversion it demonstrates, once: the real mutexes inside its
  // lockdep::mutexes are its validator's, not the preload's.
  run_result result = run_under_lockdep(GALLERY_ABBA, "", "", 20);
  log_output(result);
  CHECK(result.exit_status == 1);  // the gallery's own status after a report
  REQUIRE(report_titles(result.lines) == std::vector<std::string>{circular});
  CHECK(find_line(result.lines, R"(.*\(&kvm->lock\)\{\+\.\+\.\}, at: .*)") < result.lines.size());
}
#endif

// libFuzzer target: lock programs (lock_program.hpp) of acquisitions (exclusive, shared,
// recursive read; trylock, unchecked, with a subclass), releases in and out of order, lock
// destruction, held-state queries and might_lock, spread over up to three threads run in
// lockstep. Each program runs on the validator through the public API and on the reference
// model (lock_program_model.hpp); after every operation the reports issued, the result of
// lock_release and the answer of lock_held_state must be the model's. Every report is also
// rendered as kernel text and JSON. Any disagreement aborts with the program's listing.
//
// Locks are lock_maps (pseudo-locks), so nothing ever blocks. Each input gets a
// report_capture, which resets the validator before and after it, fresh threads (so no held
// lock outlives the input) and fresh lock_maps.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "lock_program.hpp"
#include "lock_program_model.hpp"
#include "lockdep/lock_map.hpp"
#include "lockdep/options.hpp"
#include "lockdep/testing.hpp"
#include "lockdep/validator.hpp"
#include "lockstep_threads.hpp"
#include "report_matcher.hpp"

namespace {

using namespace lockdep_fuzz;

// Small tables, ample for 64 operations over 8 classes: a reset (two per input) sizes every
// table, and full-size ones would cost more than running the program.
constexpr const char* small_tables =
    "max_classes=64:max_dependencies=1024:max_chains=4096:max_chain_hlocks=131072:"
    "max_stack_entries=65536:stack_depth=8";

// The program's locks. `destroy` either ends a lock and builds a new one at the same address,
// as when a freed lock's memory is reused, or frees it and allocates a new one elsewhere, so
// that ASan catches the validator touching a destroyed lock. Not copyable or movable.
class lock_pool {
 public:
  explicit lock_pool(unsigned count) {
    for (unsigned lock = 0; lock < count; ++lock) {
      maps_.push_back(std::make_unique<lockdep::lock_map>(lock_names[lock]));
    }
  }
  lock_pool(const lock_pool&) = delete;
  lock_pool& operator=(const lock_pool&) = delete;

  lockdep::lock_map& at(unsigned lock) { return *maps_[lock]; }
  void destroy_and_construct(unsigned lock, bool in_place) {
    if (in_place) {
      lockdep::lock_map* map = maps_[lock].get();
      map->~lock_map();
      new (map) lockdep::lock_map(lock_names[lock]);
    } else {
      maps_[lock].reset();
      maps_[lock] = std::make_unique<lockdep::lock_map>(lock_names[lock]);
    }
  }

 private:
  std::vector<std::unique_ptr<lockdep::lock_map>> maps_;
};

struct op_result {
  bool released = true;
  lockdep::held_state queried = lockdep::held_state::unknown;
};

// Out of line so that LOCKDEP_RET_IP is a real call site.
[[gnu::noinline]] void perform(const lock_op& op, lock_pool& locks, op_result& result) {
  const void* ip = LOCKDEP_RET_IP;
  lockdep::lock_map& map = locks.at(op.lock);
  switch (op.kind) {
    case verb::acquire: {
      lockdep::acquire_request request;
      request.subclass = op.subclass;
      request.access = op.access;
      request.trylock = op.trylock;
      request.check = op.checked;
      lockdep::lock_acquire(map, request, ip);
      break;
    }
    case verb::release:
      result.released = lockdep::lock_release(map, ip);
      break;
    case verb::destroy:
      locks.destroy_and_construct(op.lock, op.access == lockdep::lock_access::exclusive);
      break;
    case verb::query:
      result.queried = op.query_any_access ? lockdep::lock_held_state(map)
                                           : lockdep::lock_held_state(map, op.access);
      break;
    case verb::might_lock:
      lockdep::might_lock(map, op.access, ip);
      break;
  }
}

const char* held_state_text(lockdep::held_state state) {
  switch (state) {
    case lockdep::held_state::not_held:
      return "not_held";
    case lockdep::held_state::held:
      return "held";
    case lockdep::held_state::unknown:
      return "unknown";
  }
  return "?";
}

// Runs one program on the validator and the model side by side.
class program_run {
 public:
  explicit program_run(const lock_program& program)
      : program_(program),
        capture_(options_for(program)),
        locks_(program.locks),
        threads_(program.threads),
        model_(program),
        matcher_(program.keep_going, thread_ids(threads_, program.threads)),
        skipped_(program.ops.size(), false) {}

  void run() {
    for (std::size_t i = 0; i < program_.ops.size(); ++i) {
      const lock_op& op = program_.ops[i];
      if (!model_.runnable(op)) {
        skipped_[i] = true;
        continue;
      }
      expected_outcome expected = model_.apply(op);
      op_result result;
      threads_.run_on(op.thread, [&] { perform(op, locks_, result); });
      std::string where = "#" + std::to_string(i) + " " + op_text(op);
      if (op.kind == verb::release && result.released != expected.release_balanced) {
        disagree(where,
                 std::string("lock_release returned ") + (result.released ? "true" : "false"));
      }
      if (op.kind == verb::query && result.queried != expected.queried) {
        disagree(where, std::string("lock_held_state returned ") + held_state_text(result.queried) +
                            ", the model says " + held_state_text(expected.queried));
      }
      check_reports(where, expected);
    }
    if (trace_) std::fprintf(stderr, "%s", listing(program_, skipped_).c_str());
    for (unsigned thread = 0; thread < program_.threads; ++thread) {
      expected_outcome expected = model_.thread_exit(thread);
      threads_.finish(thread);
      check_reports("exit of T" + std::to_string(thread), expected);
    }
  }

 private:
  static lockdep::options options_for(const lock_program& program) {
    lockdep::options configured = lockdep::current_options();
    configured.keep_going = program.keep_going;
    configured.max_lock_depth = program.depth_limit;
    return configured;
  }

  static std::vector<long> thread_ids(const lockstep_threads& threads, unsigned count) {
    std::vector<long> ids;
    for (unsigned thread = 0; thread < count; ++thread) ids.push_back(threads.tid(thread));
    return ids;
  }

  void check_reports(const std::string& where, const expected_outcome& expected) {
    std::size_t count = capture_.count();
    if (count == seen_ && expected.reports.empty()) return;
    std::vector<lockdep::report> all = capture_.reports();
    std::vector<lockdep::report> issued(all.begin() + static_cast<std::ptrdiff_t>(seen_),
                                        all.end());
    seen_ = all.size();
    for (const lockdep::report& one : issued) {
      if (trace_) std::fprintf(stderr, "%s: %s\n", where.c_str(), lockdep::to_string(one.kind));
    }
    if (!issued.empty() && !rendered_) {
      // Rendering must not crash whatever the report holds. The first report of each program
      // only: rendering every one would take most of the time.
      require(!issued.front().kernel_text(false).empty(), "a report rendered as no text");
      require(!issued.front().json().empty(), "a report rendered as no JSON");
      rendered_ = true;
    }
    if (std::optional<std::string> wrong = matcher_.match(expected.reports, issued, model_)) {
      disagree(where, *wrong);
    }
  }

  [[noreturn]] void disagree(const std::string& where, const std::string& what) {
    fail("the validator and the model disagree at " + where + ": " + what + "\n" +
         listing(program_, skipped_));
  }

  const lock_program& program_;
  lockdep::testing::report_capture capture_;
  lock_pool locks_;
  lockstep_threads threads_;
  lock_program_model model_;
  report_matcher matcher_;
  std::vector<bool> skipped_;
  std::size_t seen_ = 0;
  bool rendered_ = false;
  // LOCKDEP_FUZZ_TRACE set: print each program and the kinds of the reports it gave.
  bool trace_ = std::getenv("LOCKDEP_FUZZ_TRACE") != nullptr;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Read once, on the validator's first use: the size every testing reset returns to.
  setenv("LOCKDEP_OPTIONS", small_tables, 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lock_program program = decode_lock_program(data, size);
  program_run(program).run();
  return 0;
}

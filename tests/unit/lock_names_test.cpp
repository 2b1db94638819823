// Naming a lock the program gave no name by the program's line in its first use
// (lock_names.hpp), on reports built by hand: which line of the stack is the program's.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "lock_names.hpp"

using lockdep::inlined_function;
using lockdep::report;
using lockdep::report_kind;
using lockdep::stack_frame;

namespace {

stack_frame frame(std::string function, std::string file, unsigned line, std::string module = "") {
  stack_frame made;
  made.address = 0x1000;
  made.function = std::move(function);
  made.file = std::move(file);
  made.line = line;
  made.module = std::move(module);
  return made;
}

stack_frame lock_function() {
  stack_frame made = frame("pthread_mutex_lock", "/src/lockdep/preload/mutex_interposer.cpp", 134,
                           "liblockdep_preload");
  made.in_validator = true;
  return made;
}

// A recursive-locking report on a heap lock first used along `first_use`.
report report_on(const void* lock, lockdep::stack_trace first_use) {
  report made;
  made.kind = report_kind::recursive_locking;
  made.acquiring.class_name = "0x1234";
  made.acquiring.name_source.address = lock;
  made.acquiring.name_source.named_by_first_use = true;
  made.acquiring.name_source.first_use = std::move(first_use);
  made.holding = made.acquiring;
  return made;
}

}  // namespace

TEST_CASE("a lock is named by the program's line inlined into its first use", "[names]") {
  auto lock = std::make_unique<int>();
  // -O2: std::lock_guard and the program's own helper inlined into the caller's frame.
  stack_frame caller = frame("serve", "/src/app/server.cpp", 40);
  caller.inlined = {
      inlined_function{"std::mutex::lock", "/usr/include/c++/12/bits/std_mutex.h", 100},
      inlined_function{"std::lock_guard<std::mutex>::lock_guard",
                       "/usr/include/c++/12/bits/std_mutex.h", 229},
      inlined_function{"handle_request", "/src/app/server.cpp", 19},
  };
  report named = report_on(lock.get(), {lock_function(), caller});
  lockdep::detail::name_unnamed_locks(named);
  CHECK(named.acquiring.class_name == "server.cpp:19");
  CHECK(named.holding.class_name == "server.cpp:19");
}

TEST_CASE("a lock is named past non-inlined standard library wrappers", "[names]") {
  auto lock = std::make_unique<int>();
  // -O0: each wrapper a frame of its own.
  report named =
      report_on(lock.get(), {lock_function(),
                             frame("__gthread_mutex_lock",
                                   "/usr/include/x86_64-linux-gnu/c++/12/bits/gthr-default.h", 749),
                             frame("std::mutex::lock", "/usr/include/c++/12/bits/std_mutex.h", 100),
                             frame("ship", "/src/app/shop.cpp", 25)});
  lockdep::detail::name_unnamed_locks(named);
  CHECK(named.acquiring.class_name == "shop.cpp:25");
}

TEST_CASE("a lock first used from the runtime libraries only keeps its address", "[names]") {
  auto lock = std::make_unique<int>();
  // A stack that never reaches the program's code with a line: libstdc++'s thread entry and
  // libc's, even with their debug information installed.
  report named = report_on(
      lock.get(),
      {lock_function(),
       frame("std::thread::_State_impl<...>::_M_run", "/usr/include/c++/12/bits/std_thread.h", 210),
       frame("execute_native_thread_routine", "../thread.cc", 82, "libstdc++"),
       frame("start_thread", "./nptl/pthread_create.c", 442, "libc")});
  lockdep::detail::name_unnamed_locks(named);
  CHECK(named.acquiring.class_name == "0x1234");
}

TEST_CASE("two locks that would share a name are told apart with #2", "[names]") {
  auto first = std::make_unique<int>();
  auto second = std::make_unique<int>();
  const lockdep::stack_trace same_line = {lock_function(), frame("ship", "/src/app/shop.cpp", 25)};
  report named = report_on(first.get(), same_line);
  named.kind = report_kind::circular_dependency;
  named.holding.class_name = "0x5678/1";
  named.holding.name_source.address = second.get();
  lockdep::detail::name_unnamed_locks(named);
  CHECK(named.acquiring.class_name == "shop.cpp:25");
  CHECK(named.holding.class_name == "shop.cpp:25#2/1");
}

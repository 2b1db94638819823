#include "inlined_calls.hpp"

#include "stack_capture.hpp"
#include "symbolization.hpp"

namespace inlined_calls {

// Each constant is the line of a call two lines below it, in the function that follows.

constexpr unsigned lock_innermost_line = __LINE__ + 2;
[[gnu::always_inline]] inline void take_innermost(lockdep::mutex& lock) {
  lock.lock();
}

constexpr unsigned lock_middle_line = __LINE__ + 2;
[[gnu::always_inline]] inline void take_through(lockdep::mutex& lock) {
  take_innermost(lock);
}

constexpr unsigned lock_outer_line = __LINE__ + 2;
[[gnu::noinline]] void lock_inlined(lockdep::mutex& lock) {
  take_through(lock);
  asm volatile("" ::: "memory");  // no tail call: lock() must return into this function
}

const call_lines lock_lines{lock_innermost_line, lock_middle_line, lock_outer_line};

constexpr unsigned capture_innermost_line = __LINE__ + 2;
[[gnu::always_inline]] inline void capture_innermost(std::uintptr_t& return_address) {
  lockdep::detail::capture_stack(&return_address, 1);
}

constexpr unsigned capture_middle_line = __LINE__ + 2;
[[gnu::always_inline]] inline void capture_through(std::uintptr_t& return_address) {
  capture_innermost(return_address);
}

constexpr unsigned capture_outer_line = __LINE__ + 3;
[[gnu::noinline]] std::uintptr_t return_address_inlined() {
  std::uintptr_t return_address = 0;
  capture_through(return_address);
  asm volatile("" ::: "memory");
  return return_address;
}

const call_lines capture_lines{capture_innermost_line, capture_middle_line, capture_outer_line};

[[gnu::noinline]] std::uintptr_t return_address_in_lambda() {
  std::uintptr_t return_address = 0;
  auto capture = [&return_address]() __attribute__((always_inline)) {
    lockdep::detail::capture_stack(&return_address, 1);
  };
  capture();
  asm volatile("" ::: "memory");
  return return_address;
}

}  // namespace inlined_calls

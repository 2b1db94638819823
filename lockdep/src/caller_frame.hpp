// keep_caller_frame(): an empty statement the compiler must keep. Placed after a call, it stops
// the call being made a tail call, which would drop the calling lock function's frame from the
// stack traces captured inside the callee: reports start their traces at the lock function (the
// frame that returns to the program), so it must still be on the stack.
#pragma once

namespace lockdep::detail {

[[gnu::always_inline]] inline void keep_caller_frame() {
  asm volatile("");
}

}  // namespace lockdep::detail

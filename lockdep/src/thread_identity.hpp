// Who the current thread is, as the kernel's reports name a task: comm (the thread name set
// with pthread_setname_np / prctl) and tid, plus the CPU it runs on.
#pragma once

#include "lockdep/report.hpp"

namespace lockdep::detail {

thread_identity current_thread_identity();
int current_cpu();

}  // namespace lockdep::detail

// Kernel threads of the model (kswapd0, the kworker): threads that look like kernel threads to
// lockdep. Each is named with pthread_setname_np before it touches a lock (reports print the
// name as the task's comm), runs with PF_KTHREAD set, and starts directly in `ret_from_fork`
// then `kthread` (a raw pthread, not std::thread, whose own frames would follow), so stack
// traces end as the kernel's do.
//
// Private to alloc/src. Thread-safe.
#pragma once

#include <pthread.h>

namespace lockdep::mm {

using kthread_fn = int (*)(void*);

// Starts threadfn(data) on a new thread called `name` (15 characters at most: the comm limit;
// a string literal, as it is read by the new thread). Throws std::system_error if the thread
// cannot be created, as std::thread does. The caller joins it with pthread_join.
void kthread_run(kthread_fn threadfn, void* data, const char* name, pthread_t* thread);

extern "C" {
// The frames every kernel thread starts with; `create` is the model's kthread_create_info,
// owned (and freed) by ret_from_fork.
int kthread(void* create);
void* ret_from_fork(void* create);
}

}  // namespace lockdep::mm

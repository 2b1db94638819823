// A minimal kernel-style workqueue: the system workqueue ("events") with one worker thread,
// named like a kernel worker ("kworker/u8:3"), for deferred work such as the per-CPU
// allocator's balance work (pcpu_balance_workfn).
//
// The worker runs work items one at a time, in queueing order, under the frames
// kthread -> worker_thread -> process_one_work -> func, so stack traces taken inside a work
// function read as the kernel's. A work item is pending from schedule_work() until the worker
// picks it up; it can be queued again while it runs (it then runs again).
//
// Not modelled: the workqueue's own lockdep annotations (the kernel's "(wq_completion)events"
// and "(work_completion)" pseudo-locks), concurrency management, per-CPU pools. The internal
// locks are plain std::mutex / condition_variable: they are not modelled kernel locks.
//
// Thread safety: all functions may be called from any thread. The worker starts on first use;
// destroy_system_workqueue() stops it (tests must, before they end), and the next
// schedule_work() starts a new one.
#pragma once

#include <functional>

namespace lockdep::mm {

// Must outlive its execution and any flush_work() on it. Not copyable or movable while queued
// (the queue holds its address).
struct work_struct {
  std::function<void(work_struct*)> func;
  bool pending = false;  // internal: guarded by the workqueue's lock; use work_pending()
};

void INIT_WORK(work_struct* work, std::function<void(work_struct*)> func);
// Whether the work is queued and not yet picked up by the worker.
bool work_pending(const work_struct* work);

// Queues on the system workqueue; false (and nothing done) if it is already pending.
bool schedule_work(work_struct* work);
// Waits until the work is neither pending nor running. True if it had to wait. Flushing a work
// from its own function would wait forever: that is reported (lockdep::report_warning) and
// returns false at once.
bool flush_work(work_struct* work);
// Waits until every work queued so far has run.
void flush_scheduled_work();
// Runs what is queued, then stops and joins the worker thread.
void destroy_system_workqueue();

// Kernel names, C linkage so that stack traces show them bare.
extern "C" {
// The worker's thread function; `pool` is unused (one pool).
int worker_thread(void* pool);
// Clears the work's pending flag, then runs its function.
void process_one_work(work_struct* work);
}

}  // namespace lockdep::mm

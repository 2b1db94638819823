// The system workqueue: one worker thread, a FIFO of pending work items.
#include "lockdep/mm/workqueue.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

#include "kthread.hpp"
#include "lockdep/validator.hpp"

namespace lockdep::mm {
namespace {

// The machinery's own synchronization, deliberately not instrumented (not a modelled kernel
// lock). Leaked so that a worker still running at exit never sees it destroyed.
struct workqueue_control {
  std::mutex lock;
  std::condition_variable more_work;  // the worker sleeps here
  std::condition_variable work_done;  // flushers sleep here
  std::deque<work_struct*> queue;
  work_struct* running = nullptr;  // compared only: the work may free itself
  bool stop = false;
  bool started = false;
  pthread_t thread{};
};

workqueue_control& control() {
  static workqueue_control* const shared = new workqueue_control;
  return *shared;
}

// Set on the worker thread: flushing from a work function would wait for itself.
thread_local bool on_worker = false;

}  // namespace

void INIT_WORK(work_struct* work, std::function<void(work_struct*)> func) {
  work->func = std::move(func);
  work->pending = false;
}

bool work_pending(const work_struct* work) {
  workqueue_control& c = control();
  std::lock_guard guard(c.lock);
  return work->pending;
}

bool schedule_work(work_struct* work) {
  workqueue_control& c = control();
  {
    std::lock_guard guard(c.lock);
    if (work->pending) return false;
    work->pending = true;
    c.queue.push_back(work);
    if (!c.started) {
      c.stop = false;
      kthread_run(worker_thread, nullptr, "kworker/u8:3", &c.thread);
      c.started = true;
    }
  }
  c.more_work.notify_one();
  return true;
}

bool flush_work(work_struct* work) {
  workqueue_control& c = control();
  std::unique_lock guard(c.lock);
  auto idle = [&] { return !work->pending && c.running != work; };
  if (idle()) return false;
  if (on_worker) {
    report_warning("flush_work() on the system workqueue's own worker would wait for itself",
                   LOCKDEP_RET_IP);
    return false;
  }
  c.work_done.wait(guard, idle);
  return true;
}

void flush_scheduled_work() {
  workqueue_control& c = control();
  std::unique_lock guard(c.lock);
  if (on_worker) {
    report_warning("flush_scheduled_work() from a work item would wait for itself", LOCKDEP_RET_IP);
    return;
  }
  c.work_done.wait(guard, [&] { return c.queue.empty() && c.running == nullptr; });
}

void destroy_system_workqueue() {
  workqueue_control& c = control();
  pthread_t stopping;
  {
    std::lock_guard guard(c.lock);
    if (!c.started) return;
    c.stop = true;
    c.started = false;
    stopping = c.thread;
  }
  c.more_work.notify_all();
  pthread_join(stopping, nullptr);  // the worker drains the queue before it exits
  std::lock_guard guard(c.lock);
  c.stop = false;
}

[[gnu::noinline]] int worker_thread(void* /*pool*/) {
  on_worker = true;
  workqueue_control& c = control();
  std::unique_lock guard(c.lock);
  for (;;) {
    c.more_work.wait(guard, [&] { return c.stop || !c.queue.empty(); });
    if (c.queue.empty()) break;  // stopping, and nothing left to run
    work_struct* work = c.queue.front();
    c.queue.pop_front();
    guard.unlock();
    process_one_work(work);
    guard.lock();
  }
  return 0;
}

[[gnu::noinline]] void process_one_work(work_struct* work) {
  workqueue_control& c = control();
  std::function<void(work_struct*)> func;
  {
    std::lock_guard guard(c.lock);
    work->pending = false;  // from here on it may be queued again
    c.running = work;
    func = work->func;  // a copy: the function may free or re-initialize its work item
  }
  func(work);
  {
    std::lock_guard guard(c.lock);
    c.running = nullptr;
  }
  c.work_done.notify_all();
}

}  // namespace lockdep::mm

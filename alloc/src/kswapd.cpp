// kswapd0: the background reclaim thread, and balance_pgdat().
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "kthread.hpp"
#include "lockdep/mm/fs_reclaim.hpp"
#include "lockdep/mm/memalloc.hpp"
#include "lockdep/mm/reclaim.hpp"

namespace lockdep::mm {
namespace {

// The machinery's own synchronization, deliberately not instrumented: it is not one of the
// kernel locks the model is about. Leaked so that a still-running kswapd never sees it die.
struct kswapd_control {
  std::mutex lock;
  std::condition_variable wake;  // kswapd sleeps here
  std::condition_variable idle;  // wait_for_kswapd_idle sleeps here
  bool wake_pending = false;
  bool running = false;  // kswapd is inside balance_pgdat
  bool stop = false;
  bool started = false;
  pthread_t thread{};
};

kswapd_control& control() {
  static kswapd_control* const shared = new kswapd_control;
  return *shared;
}

std::atomic<std::size_t> completed_passes{0};

}  // namespace

[[gnu::noinline]] int kswapd(void* /*pgdat*/) {
  // For its lifetime: allocations made while reclaiming never recurse into reclaim.
  set_current_task_flags(current_task_flags() | PF_MEMALLOC | PF_KSWAPD);
  kswapd_control& c = control();
  std::unique_lock guard(c.lock);
  for (;;) {
    c.wake.wait(guard, [&] { return c.stop || c.wake_pending; });
    if (c.stop) break;
    c.wake_pending = false;
    c.running = true;
    guard.unlock();
    balance_pgdat(0);
    guard.lock();
    c.running = false;
    c.idle.notify_all();
  }
  return 0;
}

[[gnu::noinline]] unsigned long balance_pgdat(int /*order*/) {
  // Unconditional, for the whole pass: kswapd may always enter filesystems.
  __fs_reclaim_acquire();
  const unsigned long freed = shrink_node(GFP_KERNEL);
  __fs_reclaim_release();
  completed_passes.fetch_add(1, std::memory_order_relaxed);
  return freed;
}

void start_kswapd() {
  kswapd_control& c = control();
  std::lock_guard guard(c.lock);
  if (c.started) return;
  c.stop = false;
  c.wake_pending = false;
  kthread_run(kswapd, nullptr, "kswapd0", &c.thread);
  c.started = true;
}

void stop_kswapd() {
  kswapd_control& c = control();
  pthread_t stopping;
  {
    std::lock_guard guard(c.lock);
    if (!c.started) return;
    c.stop = true;
    c.started = false;
    stopping = c.thread;
  }
  c.wake.notify_all();
  pthread_join(stopping, nullptr);
  std::lock_guard guard(c.lock);
  c.wake_pending = false;
  c.idle.notify_all();
}

void wakeup_kswapd() {
  kswapd_control& c = control();
  {
    std::lock_guard guard(c.lock);
    if (!c.started) return;
    c.wake_pending = true;
  }
  c.wake.notify_one();
}

std::size_t kswapd_runs() {
  return completed_passes.load(std::memory_order_relaxed);
}

bool wait_for_kswapd_idle(std::chrono::milliseconds timeout) {
  kswapd_control& c = control();
  std::unique_lock guard(c.lock);
  if (!c.started) return true;
  return c.idle.wait_for(guard, timeout, [&] { return !c.wake_pending && !c.running; });
}

unsigned long run_kswapd_pass_here() {
  const unsigned saved = current_task_flags();
  set_current_task_flags(saved | PF_MEMALLOC | PF_KSWAPD);
  const unsigned long freed = balance_pgdat(0);
  set_current_task_flags(saved);
  return freed;
}

}  // namespace lockdep::mm

// Real threads driven in strict lockstep, so that a lock program for several threads runs the
// same way every time: the caller hands one task to one worker and waits until it has run;
// no two workers ever run at once. The tasks must not block (the lock program only annotates
// lock_maps, which lock nothing).
//
// Each worker is a thread of its own, so each has its own held-lock stack in the validator, and
// finishing it runs the validator's thread-exit check. Not copyable or movable.
#pragma once

#include <unistd.h>

#include <functional>
#include <memory>
#include <semaphore>
#include <thread>
#include <vector>

namespace lockdep_fuzz {

class lockstep_threads {
 public:
  explicit lockstep_threads(unsigned count) {
    for (unsigned i = 0; i < count; ++i) {
      auto started = std::make_unique<worker>();
      worker& own = *started;
      own.thread = std::thread([&own] { own.serve(); });
      own.done.acquire();  // until it has published its thread id
      workers_.push_back(std::move(started));
    }
  }
  ~lockstep_threads() {
    for (unsigned i = 0; i < workers_.size(); ++i) finish(i);
  }
  lockstep_threads(const lockstep_threads&) = delete;
  lockstep_threads& operator=(const lockstep_threads&) = delete;

  // Runs `task` on the worker and returns when it has.
  void run_on(unsigned index, std::function<void()> task) {
    worker& chosen = *workers_[index];
    chosen.task = std::move(task);
    chosen.go.release();
    chosen.done.acquire();
  }

  // Ends the worker's thread and joins it: its thread-local destructors (the validator's exit
  // check among them) have run when this returns. Idempotent.
  void finish(unsigned index) {
    worker& chosen = *workers_[index];
    if (!chosen.thread.joinable()) return;
    chosen.task = nullptr;
    chosen.go.release();
    chosen.thread.join();
  }

  long tid(unsigned index) const { return workers_[index]->tid; }

 private:
  struct worker {
    std::thread thread;
    long tid = 0;
    std::function<void()> task;  // empty: exit
    std::binary_semaphore go{0};
    std::binary_semaphore done{0};

    void serve() {
      tid = static_cast<long>(gettid());
      done.release();
      for (;;) {
        go.acquire();
        if (!task) return;
        task();
        done.release();
      }
    }
  };
  std::vector<std::unique_ptr<worker>> workers_;
};

}  // namespace lockdep_fuzz

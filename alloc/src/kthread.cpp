// kthread_run() and the kthread / ret_from_fork frames.
#include "kthread.hpp"

#include <memory>
#include <system_error>

#include "lockdep/mm/memalloc.hpp"

namespace lockdep::mm {
namespace {

struct kthread_create_info {
  kthread_fn threadfn;
  void* data;
  const char* name;
};

}  // namespace

[[gnu::noinline]] int kthread(void* create) {
  const auto* info = static_cast<const kthread_create_info*>(create);
  pthread_setname_np(pthread_self(), info->name);
  set_current_task_flags(current_task_flags() | PF_KTHREAD);
  const int result = info->threadfn(info->data);
  asm volatile("" ::: "memory");  // keeps this frame in traces: no tail call
  return result;
}

[[gnu::noinline]] void* ret_from_fork(void* create) {
  std::unique_ptr<kthread_create_info> info(static_cast<kthread_create_info*>(create));
  kthread(info.get());
  asm volatile("" ::: "memory");
  return nullptr;
}

void kthread_run(kthread_fn threadfn, void* data, const char* name, pthread_t* thread) {
  auto info = std::make_unique<kthread_create_info>(kthread_create_info{threadfn, data, name});
  const int error = pthread_create(thread, nullptr, ret_from_fork, info.get());
  if (error != 0) throw std::system_error(error, std::generic_category(), "kthread_run");
  info.release();  // the new thread owns it now
}

}  // namespace lockdep::mm

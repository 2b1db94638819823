#include "syscall.hpp"

#include "vfs.hpp"

#define KEEP_FRAME() asm volatile("" ::: "memory")

extern "C" {

[[gnu::noinline]] long do_syscall_64(syscall_handler handler, void* argument) {
  long result = handler(argument);
  KEEP_FRAME();
  return result;
}

[[gnu::noinline]] long entry_SYSCALL_64_after_hwframe(syscall_handler handler, void* argument) {
  long result = do_syscall_64(handler, argument);
  KEEP_FRAME();
  return result;
}

[[gnu::noinline]] long __x64_sys_ioctl(void* call) {
  auto* ioctl = static_cast<ioctl_call*>(call);
  long result = ksys_ioctl(ioctl->sb, ioctl->command, ioctl->argument);
  KEEP_FRAME();
  return result;
}

[[gnu::noinline]] long __ia32_sys_sync(void*) {
  ksys_sync();
  KEEP_FRAME();
  return 0;
}

[[gnu::noinline]] long task_work_run(void* sb) {
  cleanup_mnt(static_cast<super_block*>(sb));
  KEEP_FRAME();
  return 0;
}

[[gnu::noinline]] long exit_to_usermode_loop(void* sb) {
  long result = task_work_run(sb);
  KEEP_FRAME();
  return result;
}

}  // extern "C"

// System-call entry, as far as the seed's traces show it: the threads of the reproducer enter
// the "kernel" through these frames, so their stack traces end the way the kernel's do.
#pragma once

struct super_block;

extern "C" {
using syscall_handler = long (*)(void* argument);
long entry_SYSCALL_64_after_hwframe(syscall_handler handler, void* argument);
long do_syscall_64(syscall_handler handler, void* argument);

struct ioctl_call {
  super_block* sb;
  unsigned int command;
  void* argument;
};
long __x64_sys_ioctl(void* call);      // an ioctl_call
long __ia32_sys_sync(void* unused);    // sync(2)
long exit_to_usermode_loop(void* sb);  // runs task work on return: the final mntput of umount
long task_work_run(void* sb);
}

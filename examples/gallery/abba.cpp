// ABBA: two lock classes taken in opposite orders by two threads.
//
// KVM's rule is "kvm->lock is taken outside vcpu->mutex". The VM-wide ioctl follows it; the vCPU
// ioctl below breaks it. The two threads run one after the other, so nothing deadlocks in this
// run, yet lockdep reports the inversion: it remembers the order qemu-main used and sees vcpu0
// take the same two classes the other way round. Had they run at once, each could hold one lock
// and wait forever for the other.
//
// Exit status: 1 when a report was printed, else 0.
#include <pthread.h>

#include <thread>

#include "lockdep/lockdep.hpp"

struct kvm {
  lockdep::mutex lock{LOCKDEP_CLASS("&kvm->lock")};
  long kvmclock_offset = 0;
};

struct kvm_vcpu {
  lockdep::mutex mutex{LOCKDEP_CLASS("&vcpu->mutex")};
  kvm* vm = nullptr;
  long tsc_offset = 0;
};

// Explicit lock()/unlock(), as the kernel calls mutex_lock(): the report then names these
// functions as the acquisition sites (with std::lock_guard it names the guard's constructor).
// Static functions rather than an unnamed namespace, so that traces show bare names.

// KVM_SET_CLOCK on the VM: kvm->lock, then each vCPU's mutex. The documented order.
static void kvm_vm_set_clock(kvm& vm, kvm_vcpu& vcpu, long offset) {
  vm.lock.lock();
  vm.kvmclock_offset = offset;
  vcpu.mutex.lock();
  vcpu.tsc_offset = offset;
  vcpu.mutex.unlock();
  vm.lock.unlock();
}

// A vCPU ioctl (which runs with vcpu->mutex held) that also updates VM state: the reverse order.
static void kvm_vcpu_set_tsc(kvm_vcpu& vcpu, long offset) {
  vcpu.mutex.lock();
  vcpu.tsc_offset = offset;
  vcpu.vm->lock.lock();
  vcpu.vm->kvmclock_offset = offset;
  vcpu.vm->lock.unlock();
  vcpu.mutex.unlock();
}

int main() {
  kvm vm;
  kvm_vcpu vcpu{.vm = &vm};
  std::thread([&] {
    pthread_setname_np(pthread_self(), "qemu-main");  // the comm/tid reports print
    kvm_vm_set_clock(vm, vcpu, 1000);
  }).join();
  std::thread([&] {
    pthread_setname_np(pthread_self(), "vcpu0");
    kvm_vcpu_set_tsc(vcpu, 2000);  // reported here
  }).join();
  return lockdep::report_count() == 0 ? 0 : 1;
}

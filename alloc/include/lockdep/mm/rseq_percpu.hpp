// Per-CPU updates with restartable sequences: a short instruction sequence that the kernel
// restarts (here: aborts, and the caller retries) if the thread is preempted, migrated or
// signalled inside it, so a plain, unlocked store to the current CPU's slot is exclusive, as
// the kernel's this_cpu_add() is. glibc (2.35+) registers each thread's rseq area; we only
// use it. On other architectures, or when rseq is not registered, the callers fall back to
// atomic read-modify-write operations. Inline: these are the whole fast path of
// percpu_counter_add().
#pragma once

#include <sys/rseq.h>

#include <cstdint>

// The CPU the thread last ran on, from the rseq area; -1 when rseq is not available.
// add_on_cpu: *slot += amount if the thread still runs on `cpu` when the add commits; false if
// the sequence was aborted first (nothing was changed: retry).
// take_on_cpu: *taken = *slot and *slot = 0 under the same condition.
namespace lockdep::mm::rseq {

inline struct ::rseq* area() {
  if (__rseq_size == 0) return nullptr;
  return reinterpret_cast<struct ::rseq*>(static_cast<char*>(__builtin_thread_pointer()) +
                                          __rseq_offset);
}

inline int current_cpu() {
#if defined(__x86_64__)
  struct ::rseq* registered = area();
  if (registered == nullptr) return -1;
  return static_cast<int>(__atomic_load_n(&registered->cpu_id_start, __ATOMIC_RELAXED));
#else
  return -1;
#endif
}

#if defined(__x86_64__)
// Each sequence: a struct rseq_cs descriptor {version, flags, start, length, abort} in section
// __rseq_cs; publish it in rseq_cs; check we are still on `cpu`; commit with one store. The
// abort handler must follow the signature glibc registered (RSEQ_SIG, inside an ud1
// instruction so that stray execution traps).
#define RSEQ_CRITICAL_SECTION_START(cs_label, start_label, commit_label, abort_label) \
  ".pushsection __rseq_cs, \"aw\"\n\t"                                                \
  ".balign 32\n\t" cs_label                                                           \
  ":\n\t"                                                                             \
  ".long 0x0, 0x0\n\t"                                                                \
  ".quad " start_label "f, (" commit_label "f - " start_label "f), " abort_label      \
  "f\n\t"                                                                             \
  ".popsection\n\t"                                                                   \
  "leaq " cs_label                                                                    \
  "b(%%rip), %%rax\n\t"                                                               \
  "movq %%rax, %[rseq_cs]\n\t"

#define RSEQ_ABORT_HANDLER(abort_label)     \
  ".pushsection __rseq_failure, \"ax\"\n\t" \
  ".byte 0x0f, 0xb9, 0x3d\n\t"              \
  ".long 0x53053053\n\t" abort_label        \
  ":\n\t"                                   \
  "jmp %l[aborted]\n\t"                     \
  ".popsection\n\t"

// Internal linkage (static), not inline: a compiler may still emit an out-of-line copy, and
// as an inline function that copy would be a COMDAT the linker keeps from one object only,
// while every object's __rseq_cs descriptor points into its own copy (clang: "referenced in
// section __rseq_cs ... defined in discarded section").
[[gnu::always_inline]] static inline bool add_on_cpu(std::int32_t* slot, std::int32_t amount, int cpu) {
  struct ::rseq* registered = area();
  asm goto(RSEQ_CRITICAL_SECTION_START("3", "1", "2", "4")
           "1:\n\t"
           "cmpl %[cpu], %[cpu_id]\n\t"
           "jnz 4f\n\t"
           "addl %[amount], %[slot]\n\t"  // the commit
           "2:\n\t" RSEQ_ABORT_HANDLER("4")
           :
           : [rseq_cs] "m"(registered->rseq_cs), [cpu_id] "m"(registered->cpu_id),
             [cpu] "r"(cpu), [slot] "m"(*slot), [amount] "r"(amount)
           : "memory", "cc", "rax"
           : aborted);
  return true;
aborted:
  return false;
}

[[gnu::always_inline]] static inline bool take_on_cpu(std::int32_t* slot, int cpu, std::int32_t* taken) {
  struct ::rseq* registered = area();
  asm goto(RSEQ_CRITICAL_SECTION_START("3", "1", "2", "4")
           "1:\n\t"
           "cmpl %[cpu], %[cpu_id]\n\t"
           "jnz 4f\n\t"
           "movl %[slot], %%ecx\n\t"
           "movl %%ecx, %[taken]\n\t"  // private: rewritten if restarted
           "movl $0, %[slot]\n\t"      // the commit
           "2:\n\t" RSEQ_ABORT_HANDLER("4")
           :
           : [rseq_cs] "m"(registered->rseq_cs), [cpu_id] "m"(registered->cpu_id),
             [cpu] "r"(cpu), [slot] "m"(*slot), [taken] "m"(*taken)
           : "memory", "cc", "rax", "rcx"
           : aborted);
  return true;
aborted:
  return false;
}
#else
inline bool add_on_cpu(std::int32_t*, std::int32_t, int) {
  return false;
}
inline bool take_on_cpu(std::int32_t*, int, std::int32_t*) {
  return false;
}
#endif

}  // namespace lockdep::mm::rseq

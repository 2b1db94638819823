// Call-site lock classes (LOCKDEP_OPTIONS=preload_classes=callsite): one lockdep class key per
// code address that called pthread_*_init, the kernel's `static struct lock_class_key __key` per
// mutex_init() site. Every object initialised at one site shares a class, so an order learnt on
// one instance applies to all of them (and nesting two of them is reported as recursive).
//
// Keys are named after the site as the kernel prints code addresses (%pS, by the validator's
// symbolizer): "node_init+0x1d/0x4e", with " [module]" outside the main executable, or
// "0x<address> [module]" when the function is unknown.
// Keys live forever (a class may outlive every object of it). The table holds 4096 sites; past
// that, key_for_callsite() answers nullptr and the caller falls back to a per-instance class.
//
// Thread-safety: any thread; the table has its own spin_lock. Call inside a lockdep_scope
// (naming a site symbolizes it: dladdr takes the loader's lock, libunwind its own).
#pragma once

#include "lockdep/lock_class_key.hpp"

namespace lockdep::preload {

lock_class_key* key_for_callsite(const void* site);

// fork() support, as lock_table's.
void lock_callsite_keys_for_fork();
void unlock_callsite_keys_after_fork();

}  // namespace lockdep::preload

// Lock class keys: what decides which locks share a lock class.
//
// As in the kernel, a lock class is identified by a key object's address (plus a subclass
// 0..7 for nesting). All locks constructed with the same key share one class, so what the
// validator learns about one `&delayed_node->mutex` applies to every delayed node.
//
//   LOCKDEP_CLASS("&delayed_node->mutex")   a static key created at this expansion site, the
//                                           kernel's `static struct lock_class_key __key`
//   lockdep::lock_class_key key{"name"};    an explicit key to share (or split) on purpose
//   lockdep::dynamic_lock_class_key key{"name"};  a key with a lifetime: when it is destroyed,
//                                           its classes and their dependencies are forgotten
//
// Keys are neither copyable nor movable: their address is their identity.
#pragma once

#include "lockdep/config.hpp"

#if !LOCKDEP_ENABLED
#include "lockdep/unvalidated.hpp"
#else

namespace lockdep {

class lock_class_key {
 public:
  constexpr explicit lock_class_key(const char* name) : name_(name) {}
  lock_class_key(const lock_class_key&) = delete;
  lock_class_key& operator=(const lock_class_key&) = delete;

  // The class name, as a kernel developer would write it: "&delayed_node->mutex".
  constexpr const char* name() const { return name_; }

 private:
  const char* name_;
};

// A key for classes that must not outlive something: destroying it forgets its classes (all
// subclasses), their dependencies and cached chains, like the kernel's lockdep_unregister_key().
// A lock still using the key must not be used afterwards.
class dynamic_lock_class_key : public lock_class_key {
 public:
  explicit dynamic_lock_class_key(const char* name) : lock_class_key(name) {}
  ~dynamic_lock_class_key();
};

// Forgets every class created from `key` (all subclasses) with their dependencies and chains.
void forget_lock_class_key(const void* key);

}  // namespace lockdep

// A static key unique to this expansion site, named `name` (a string literal). Use it where the
// kernel would call mutex_init(): in a constructor or a default member initializer, so that
// every object of the type shares the class:
//   struct delayed_node { lockdep::mutex mutex{LOCKDEP_CLASS("&delayed_node->mutex")}; };
#define LOCKDEP_CLASS(name)                              \
  ([]() -> ::lockdep::lock_class_key& {                  \
    static ::lockdep::lock_class_key lockdep_key_{name}; \
    return lockdep_key_;                                 \
  }())

// The kernel's mutex_init(&x->lock) idiom: gives *lock_ptr a static class for this call site,
// named after the argument as written ("&x->lock"). The lock must not be held.
#define LOCKDEP_INIT(lock_ptr) ((lock_ptr)->set_class(LOCKDEP_CLASS(#lock_ptr)))

#endif  // LOCKDEP_ENABLED

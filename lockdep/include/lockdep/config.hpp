// Build configuration seen by code that includes lockdep's headers.
//
// LOCKDEP_ENABLED (1 by default): 0 turns every lock type into its standard counterpart with
// the same size and speed, and every annotation into nothing (see unvalidated.hpp). The CMake
// option LOCKDEP_ENABLED sets it for consuming targets.
//
// LOCKDEP_CAPABILITY and friends: Clang thread-safety annotations on the lock types, so
// -Wthread-safety works with them; empty for other compilers.
#pragma once

#ifndef LOCKDEP_ENABLED
#define LOCKDEP_ENABLED 1
#endif

#if defined(__clang__)
#define LOCKDEP_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LOCKDEP_THREAD_ANNOTATION(x)
#endif

#define LOCKDEP_CAPABILITY(name) LOCKDEP_THREAD_ANNOTATION(capability(name))
#define LOCKDEP_SCOPED_CAPABILITY LOCKDEP_THREAD_ANNOTATION(scoped_lockable)
#define LOCKDEP_ACQUIRE(...) LOCKDEP_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define LOCKDEP_ACQUIRE_SHARED(...) \
  LOCKDEP_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define LOCKDEP_RELEASE(...) LOCKDEP_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define LOCKDEP_RELEASE_SHARED(...) \
  LOCKDEP_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define LOCKDEP_TRY_ACQUIRE(...) LOCKDEP_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define LOCKDEP_TRY_ACQUIRE_SHARED(...) \
  LOCKDEP_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))

// Symbolization: code addresses into `stack_frame`s (dladdr and libunwind for names, elfutils'
// libdwfl for source lines and inlined calls), and lock addresses into the names of the static
// variables holding them. Runs when a report is delivered, outside the validator's locks.
//
// Thread-safe; results are cached. Nothing here uses instrumented locks.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "lockdep/report.hpp"

namespace lockdep::detail {

// Symbolizes one code address. `is_return_address` says the address is a return address, so the
// call instruction is at address - 1: symbol lookup uses address - 1 (a call at the very end of
// a function must not be attributed to the next one) while `offset` is reported from `address`,
// as the kernel does. `file`, `line` and `inlined` come from the DWARF line table and scopes of
// the object containing the address (its own debug sections, or a separate debug file found by
// build ID under /usr/lib/debug; no debuginfod), for the same looked-up address; empty when
// there are none. The first frame that needs them lists the process's objects, and a frame in
// an object loaded since lists them again.
stack_frame symbolize(std::uintptr_t address, bool is_return_address = true);
stack_trace symbolize(std::span<const std::uintptr_t> addresses);

// The static variable holding the lock at `address`, as variable_names.hpp names it
// (`inventory`, `tables[3].lock`); empty when `address` is not in a loaded object's variables
// (heap, stack, thread-local storage) or the object has no symbol for it.
std::string static_variable_name(const void* address);

// fork(): held across it (see lock_for_fork) so a child never inherits the cache's lock taken.
void lock_symbol_cache_for_fork();
void unlock_symbol_cache_after_fork();

}  // namespace lockdep::detail

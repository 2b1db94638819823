// Static variables named as a C++ developer writes them, for locks in static storage: the
// symbol (demangled: `inventory`, `(anonymous namespace)::stats`, `connection_pool::mutex_`,
// `main::m` for a function's static), then, where the DWARF type of the variable says which
// member or element holds the address, its path down to the lock (`tables[3].lock`); else the
// offset (`tables+0x40`).
//
// The path stops at a lock type: the standard library's mutexes and condition variables, the
// pthread types, and every type declared in lockdep's own headers, so `tables[3].lock` names a
// std::mutex, not its innermost pthread field. Members the standard library keeps to itself
// (`_M_elems` in std::array) are crossed without being named: `tables[3]`.
//
// Not thread-safe: it reads through a libdwfl session, which process_debug_info serializes.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

struct Dwfl_Module;

namespace lockdep::detail {

class variable_names {
 public:
  // The variable and member path at `address`, inside `module`; empty when no object symbol
  // of the module contains it.
  std::string name_at(Dwfl_Module* module, std::uintptr_t address);
  // Forgets every module (their handles go when the session lists the objects again).
  void clear() { modules_.clear(); }

 private:
  // A module's variables with a fixed address: runtime address -> offset of its DWARF entry.
  // Built on the module's first lookup, by one walk of its debug information.
  using variable_entries = std::unordered_map<std::uintptr_t, std::uint64_t>;
  const variable_entries& entries_of(Dwfl_Module* module);

  std::unordered_map<Dwfl_Module*, variable_entries> modules_;
};

}  // namespace lockdep::detail

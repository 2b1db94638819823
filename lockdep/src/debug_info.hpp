// The running process's debug information, read through one elfutils libdwfl session: source
// lines (with the functions inlined at an address) for stack frames, and the names of static
// variables for locks.
//
// The session lists the objects mapped in the process, opens each one's debug information on
// first use and keeps it. Not thread-safe (libdwfl sessions are not): symbolization.cpp
// serializes every use with one mutex, which also keeps fork() from copying a session in the
// middle of an update. libdwfl takes no lock of the dynamic loader, so holding that mutex across
// its calls cannot deadlock with a thread inside dlopen. Not copyable or movable.
#pragma once

#include <cstdint>
#include <string>

#include "lockdep/report.hpp"
#include "variable_names.hpp"

struct Dwfl;
struct Dwfl_Module;

namespace lockdep::detail {

class process_debug_info {
 public:
  process_debug_info() = default;
  process_debug_info(const process_debug_info&) = delete;
  process_debug_info& operator=(const process_debug_info&) = delete;

  // Sets frame.file and frame.line from the line table row covering ip, inside the object
  // loaded at object_base, and when that code was inlined, the functions inlined there
  // (frame.inlined) with the line in frame.function instead. Leaves them empty when anything is
  // missing: no debug information, no row, or libdwfl failing in any way (silently: frames then
  // just have no location).
  void locate(std::uintptr_t ip, std::uintptr_t object_base, stack_frame& frame);

  // Names frame.function (with offset and size) from the symbol table of the object loaded at
  // object_base or of its separate debug file, which also has the functions a stripped
  // library's dynamic symbols leave out (start_thread in libc, say). Leaves `frame` as it is
  // when neither has a function symbol containing ip.
  void name_function(std::uintptr_t ip, std::uintptr_t object_base, stack_frame& frame);

  // The static variable at `address`, inside the object loaded at object_base, as a C++
  // developer writes it: `inventory`, `(anonymous namespace)::stats`, `tables[3].lock`,
  // `tables+0x40` (see variable_names.hpp). Empty when `address` is in no variable of that
  // object's symbol table.
  std::string variable_at(std::uintptr_t address, std::uintptr_t object_base);

 private:
  // The module loaded at object_base that contains `address`, listing the objects again if it
  // was loaded since they were last listed; nullptr when none does.
  Dwfl_Module* module_of(std::uintptr_t address, std::uintptr_t object_base);
  // Created on first use: programs that never report never read any debug information.
  bool start();
  // Replaces the session's objects by those mapped now; objects still mapped where they were
  // keep the debug information already read.
  void list_objects();

  Dwfl* session_ = nullptr;  // never ended: frames may be symbolized until the process exits
  bool unavailable_ = false;
  variable_names variables_;  // refers to the session's modules: cleared when they are listed
};

}  // namespace lockdep::detail

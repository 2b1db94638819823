// Inlined functions in stack frames: which functions the compiler inlined at a code address, read
// from the DWARF scopes of its object (elfutils' libdw: the DW_TAG_inlined_subroutine entries
// around the address), so that a frame shows every function and line a call went through, as
// `eu-addr2line -i -f` does, and the line its own function holds.
//
// Not thread-safe: it reads through a libdwfl session, which process_debug_info
// (debug_info.hpp) serializes.
#pragma once

#include <cstdint>

#include "lockdep/report.hpp"

struct Dwfl_Module;

namespace lockdep::detail {

// `frame` holds the line table's row for `ip` (frame.file and frame.line): the innermost line,
// inside the innermost inlined function when the code at `ip` was inlined. Then this moves that
// line into the first of frame.inlined, lists the inlined functions innermost first, each with
// the line running in it, and sets frame.file and frame.line to the line in frame.function that
// calls the outermost of them. Leaves `frame` as it is when nothing was inlined at `ip` or the
// debug information has no scopes for it. `ip` is an address in the process, inside `module`.
void add_inlined_functions(Dwfl_Module* module, std::uintptr_t ip, stack_frame& frame);

}  // namespace lockdep::detail

#include "inlined_functions.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "stack_trace.hpp"

namespace lockdep::detail {

namespace {

struct free_with_std_free {
  void operator()(Dwarf_Die* scopes) const { std::free(scopes); }
};

// Scopes as libdw answers them: an array it allocated with malloc, innermost first. Moves only.
struct scope_list {
  std::unique_ptr<Dwarf_Die[], free_with_std_free> storage;
  std::span<Dwarf_Die> scopes;  // empty when libdw failed (a negative count) or found nothing
};

scope_list owned_scopes(Dwarf_Die* scopes, int count) {
  scope_list list{std::unique_ptr<Dwarf_Die[], free_with_std_free>(scopes), {}};
  if (count > 0) list.scopes = std::span(scopes, static_cast<std::size_t>(count));
  return list;
}

// The scopes containing `pc` (an address in the object's own terms) in the compile unit `unit`,
// up to the innermost inlined call; beyond it libdw follows the inlined function's definition
// (to find the variables in scope there), not the code it was inlined into.
scope_list scopes_containing(Dwarf_Die* unit, Dwarf_Addr pc) {
  Dwarf_Die* scopes = nullptr;
  const int count = dwarf_getscopes(unit, pc, &scopes);
  return owned_scopes(scopes, count);
}

// `scope` and the scopes that enclose it in its compile unit: the functions that `scope` was
// inlined into, up to the one the compiler emitted.
scope_list scopes_enclosing(Dwarf_Die scope) {
  Dwarf_Die* scopes = nullptr;
  const int count = dwarf_getscopes_die(&scope, &scopes);
  return owned_scopes(scopes, count);
}

bool is_function(Dwarf_Die& scope) {
  const int tag = dwarf_tag(&scope);
  return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram || tag == DW_TAG_entry_point;
}

// The functions enclosing `pc`, innermost first, up to and without the one the compiler emitted:
// the chain of inlined calls. Lexical blocks between them are left out.
std::vector<Dwarf_Die> inlined_calls_at(Dwarf_Die* unit, Dwarf_Addr pc) {
  const scope_list at_address = scopes_containing(unit, pc);
  if (at_address.scopes.empty()) return {};
  const scope_list enclosing = scopes_enclosing(at_address.scopes.front());
  std::vector<Dwarf_Die> calls;
  for (Dwarf_Die& scope : enclosing.scopes) {
    if (!is_function(scope)) continue;
    if (dwarf_tag(&scope) != DW_TAG_inlined_subroutine) break;
    calls.push_back(scope);
  }
  return calls;
}

// An inlined call's attributes are on the function's definition (DW_AT_abstract_origin), and a
// member function's on its declaration in the class (DW_AT_specification):
// dwarf_attr_integrate follows both. The linkage name demangles to the qualified name the
// symbol table would give; DW_AT_name alone is unqualified ("lock", not "std::mutex::lock").
std::string function_name(Dwarf_Die& function) {
  Dwarf_Attribute attribute;
  for (const unsigned linkage_name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    const char* mangled =
        dwarf_formstring(dwarf_attr_integrate(&function, linkage_name, &attribute));
    if (mangled != nullptr) return readable_function_name(mangled);
  }
  const char* name = dwarf_formstring(dwarf_attr_integrate(&function, DW_AT_name, &attribute));
  return name != nullptr ? name : "";
}

struct source_line {
  std::string file;
  unsigned line = 0;
};

// Where an inlined call was made: a line in the function it was inlined into. The file is an
// index into the compile unit's file table (the one its line table uses).
source_line call_site(Dwarf_Die& inlined_call, Dwarf_Files* files) {
  Dwarf_Attribute attribute;
  Dwarf_Word file_index = 0;
  Dwarf_Word line = 0;
  if (dwarf_formudata(dwarf_attr(&inlined_call, DW_AT_call_file, &attribute), &file_index) != 0 ||
      dwarf_formudata(dwarf_attr(&inlined_call, DW_AT_call_line, &attribute), &line) != 0) {
    return {};
  }
  const char* file = dwarf_filesrc(files, file_index, nullptr, nullptr);
  if (file == nullptr || line == 0) return {};
  return {file, static_cast<unsigned>(line)};
}

}  // namespace

void add_inlined_functions(Dwfl_Module* module, std::uintptr_t ip, stack_frame& frame) {
  Dwarf_Addr bias = 0;
  Dwarf_Die* unit = dwfl_module_addrdie(module, ip, &bias);
  if (unit == nullptr) return;
  std::vector<Dwarf_Die> calls = inlined_calls_at(unit, ip - bias);
  Dwarf_Files* files = nullptr;
  if (calls.empty() || dwarf_getsrcfiles(unit, &files, nullptr) != 0) return;

  // The line table's row is the innermost function's own line; each call's site is the line of
  // the function one further out.
  source_line running{std::move(frame.file), frame.line};
  frame.inlined.clear();
  frame.inlined.reserve(calls.size());
  for (Dwarf_Die& call : calls) {
    frame.inlined.push_back({function_name(call), std::move(running.file), running.line});
    running = call_site(call, files);
  }
  frame.file = std::move(running.file);
  frame.line = running.line;
}

}  // namespace lockdep::detail

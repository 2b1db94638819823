#include "inlined_functions.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "function_names.hpp"

namespace lockdep::detail {

namespace {

// What stop_at_function_containing looks for, and what it found.
struct function_search {
  Dwarf_Addr pc = 0;
  std::optional<Dwarf_Die> found;
};

// dwarf_getfuncs' callback, for each function defined in the compile unit.
int stop_at_function_containing(Dwarf_Die* function, void* search_argument) {
  auto& search = *static_cast<function_search*>(search_argument);
  if (dwarf_haspc(function, search.pc) != 1) return DWARF_CB_OK;
  search.found = *function;
  return DWARF_CB_ABORT;
}

// The function the compiler emitted whose code contains `pc`. dwarf_getfuncs looks inside the
// namespaces that clang nests C++ definitions in; dwarf_getscopes would not find them, as it
// leaves out every DIE whose own code does not contain the pc, namespaces included.
std::optional<Dwarf_Die> function_containing(Dwarf_Die* unit, Dwarf_Addr pc) {
  function_search search{pc, std::nullopt};
  dwarf_getfuncs(unit, stop_at_function_containing, &search, 0);
  return search.found;
}

// Inside a function, scopes nest like the code: at most one child of a scope contains `pc`.
std::optional<Dwarf_Die> child_containing(Dwarf_Die& scope, Dwarf_Addr pc) {
  Dwarf_Die child;
  if (dwarf_child(&scope, &child) != 0) return std::nullopt;
  do {
    if (dwarf_haspc(&child, pc) == 1) return child;
  } while (dwarf_siblingof(&child, &child) == 0);
  return std::nullopt;
}

// The inlined calls whose code contains `pc` (an address in the object's own terms), innermost
// first; empty when nothing is inlined there. Lexical blocks between them are left out.
std::vector<Dwarf_Die> inlined_calls_at(Dwarf_Die* unit, Dwarf_Addr pc) {
  std::vector<Dwarf_Die> calls;
  for (std::optional<Dwarf_Die> scope = function_containing(unit, pc); scope;
       scope = child_containing(*scope, pc)) {
    if (dwarf_tag(&*scope) == DW_TAG_inlined_subroutine) calls.push_back(*scope);
  }
  std::ranges::reverse(calls);
  return calls;
}

// The entry that declares a function: an inlined call's attributes are on the function's
// definition (DW_AT_abstract_origin), and a member function's on its declaration in the class
// (DW_AT_specification).
Dwarf_Die declaration_of(Dwarf_Die function) {
  for (int hops = 0; hops < 4; ++hops) {  // origin, then specification; more is corrupt data
    Dwarf_Attribute attribute;
    Dwarf_Die next;
    if ((dwarf_attr(&function, DW_AT_abstract_origin, &attribute) == nullptr &&
         dwarf_attr(&function, DW_AT_specification, &attribute) == nullptr) ||
        dwarf_formref_die(&attribute, &next) == nullptr) {
      break;
    }
    function = next;
  }
  return function;
}

std::string linkage_name(Dwarf_Die& function);

// "std::thread::_Invoker<...>::" for a function declared there: the names of the namespaces,
// classes and functions around `declaration`, outermost first, as a demangled name spells them.
// A function around it (a lambda's) is named whole by its linkage name where it has one: its
// definition may sit outside the namespaces it belongs to.
std::string scope_prefix(Dwarf_Die& declaration) {
  Dwarf_Die* scopes = nullptr;
  const int count = dwarf_getscopes_die(&declaration, &scopes);
  std::string prefix;
  // scopes[0] is the declaration itself, scopes[count - 1] its compile unit: walked from the
  // innermost scope out, each name put in front.
  for (int i = 1; i < count - 1; ++i) {
    const char* name = dwarf_diename(&scopes[i]);
    std::string part;
    switch (dwarf_tag(&scopes[i])) {
      case DW_TAG_namespace:
        part = name != nullptr ? name : "(anonymous namespace)";
        break;
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        part = name != nullptr ? name : "{lambda}";  // closures are the unnamed classes
        break;
      case DW_TAG_subprogram:
        part = linkage_name(scopes[i]);
        if (!part.empty()) {
          prefix.insert(0, part + "::");
          i = count;  // fully qualified already
          continue;
        }
        part = name != nullptr ? name : "";
        break;
      default:
        continue;  // blocks: no part of a name
    }
    prefix.insert(0, part + "::");
  }
  std::free(scopes);
  return prefix;
}

// The demangled linkage name, if the function (or its declaration) has one.
std::string linkage_name(Dwarf_Die& function) {
  Dwarf_Attribute attribute;
  for (const unsigned attribute_name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    const char* mangled =
        dwarf_formstring(dwarf_attr_integrate(&function, attribute_name, &attribute));
    if (mangled != nullptr) return readable_function_name(mangled);
  }
  return {};
}

// The linkage name demangles to the qualified name the symbol table would give. Without one
// (template and lambda code often has none), DW_AT_name is unqualified ("_M_run", not
// "std::thread::_State_impl<...>::_M_run"): the scopes around its declaration qualify it.
std::string function_name(Dwarf_Die& function) {
  if (std::string linked = linkage_name(function); !linked.empty()) return linked;
  Dwarf_Attribute attribute;
  const char* name = dwarf_formstring(dwarf_attr_integrate(&function, DW_AT_name, &attribute));
  if (name == nullptr) return "";
  Dwarf_Die declaration = declaration_of(function);
  return scope_prefix(declaration) + name;
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

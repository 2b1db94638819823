#include "variable_names.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include <array>
#include <charconv>
#include <limits>
#include <string_view>
#include <vector>

#include "function_names.hpp"

namespace lockdep::detail {
namespace {

std::string hex(std::uint64_t value) {
  std::array<char, 2 + 16> digits{'0', 'x'};
  const auto end = std::to_chars(digits.data() + 2, digits.data() + digits.size(), value, 16).ptr;
  return std::string(digits.data(), end);
}

// The address a variable's DW_AT_location holds when it is a fixed one (DW_OP_addr, or
// DW_OP_addrx into .debug_addr as clang emits for DWARF 5), before relocation by the bias.
bool fixed_address(Dwarf_Die& variable, Dwarf_Addr& address) {
  Dwarf_Attribute location;
  if (dwarf_attr(&variable, DW_AT_location, &location) == nullptr) return false;
  Dwarf_Op* operations = nullptr;
  std::size_t count = 0;
  if (dwarf_getlocation(&location, &operations, &count) != 0 || count != 1) return false;
  if (operations[0].atom == DW_OP_addr) {
    address = operations[0].number;
    return true;
  }
  if (operations[0].atom == DW_OP_addrx || operations[0].atom == DW_OP_GNU_addr_index) {
    Dwarf_Attribute indexed;
    return dwarf_getlocation_attr(&location, &operations[0], &indexed) == 0 &&
           dwarf_formaddr(&indexed, &address) == 0;
  }
  return false;
}

// Every variable with a fixed address under `parent`: namespaces, classes (static members),
// functions and their blocks (function-local statics).
void index_variables(Dwarf_Die& parent, Dwarf_Addr bias,
                     std::unordered_map<std::uintptr_t, std::uint64_t>& entries, int depth) {
  constexpr int deepest = 64;  // nesting in real programs stays far below; corrupt data may not
  Dwarf_Die child;
  if (depth > deepest || dwarf_child(&parent, &child) != 0) return;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_variable: {
        Dwarf_Addr address = 0;
        if (fixed_address(child, address)) {
          entries.emplace(static_cast<std::uintptr_t>(address + bias), dwarf_dieoffset(&child));
        }
        break;
      }
      case DW_TAG_namespace:
      case DW_TAG_subprogram:
      case DW_TAG_lexical_block:
      case DW_TAG_structure_type:
      case DW_TAG_class_type:
      case DW_TAG_union_type:
        index_variables(child, bias, entries, depth + 1);
        break;
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

bool type_of(Dwarf_Die& die, Dwarf_Die& type) {
  Dwarf_Attribute attribute;
  return dwarf_attr_integrate(&die, DW_AT_type, &attribute) != nullptr &&
         dwarf_formref_die(&attribute, &type) != nullptr;
}

bool declared_in_lockdep(Dwarf_Die& type) {
  const char* file = dwarf_decl_file(&type);
  return file != nullptr &&
         std::string_view(file).find("/include/lockdep/") != std::string_view::npos;
}

bool declared_in_system_header(Dwarf_Die& type) {
  const char* file = dwarf_decl_file(&type);
  if (file == nullptr) return false;
  std::string_view path(file);
  return path.starts_with("/usr/") || path.find("/include/c++/") != std::string_view::npos;
}

// The types a lock is, whose insides are no one's business: a path ends at them.
bool is_lock_type(Dwarf_Die& type) {
  constexpr std::array<std::string_view, 14> names{"mutex",
                                                   "recursive_mutex",
                                                   "timed_mutex",
                                                   "recursive_timed_mutex",
                                                   "shared_mutex",
                                                   "shared_timed_mutex",
                                                   "condition_variable",
                                                   "condition_variable_any",
                                                   "pthread_mutex_t",
                                                   "pthread_rwlock_t",
                                                   "pthread_spinlock_t",
                                                   "pthread_cond_t",
                                                   "pthread_barrier_t",
                                                   "sem_t"};
  if (declared_in_lockdep(type)) return true;
  const char* name = dwarf_diename(&type);
  if (name == nullptr || !declared_in_system_header(type)) return false;
  for (std::string_view lock_name : names) {
    if (lock_name == name) return true;
  }
  return false;
}

bool byte_size(Dwarf_Die& type, Dwarf_Word& size) {
  return dwarf_aggregate_size(&type, &size) == 0;
}

// The element counts of an array type's dimensions, outermost first; empty if one is unknown
// (a flexible array member).
std::vector<Dwarf_Word> dimensions(Dwarf_Die& array) {
  std::vector<Dwarf_Word> counts;
  Dwarf_Die child;
  if (dwarf_child(&array, &child) != 0) return {};
  do {
    if (dwarf_tag(&child) != DW_TAG_subrange_type) continue;
    Dwarf_Attribute attribute;
    Dwarf_Word value = 0;
    if (dwarf_attr(&child, DW_AT_count, &attribute) != nullptr &&
        dwarf_formudata(&attribute, &value) == 0) {
      counts.push_back(value);
    } else if (dwarf_attr(&child, DW_AT_upper_bound, &attribute) != nullptr &&
               dwarf_formudata(&attribute, &value) == 0) {
      counts.push_back(value + 1);
    } else {
      return {};
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return counts;
}

bool data_member_offset(Dwarf_Die& member, Dwarf_Word& offset) {
  Dwarf_Attribute attribute;
  if (dwarf_attr(&member, DW_AT_data_member_location, &attribute) == nullptr) {
    offset = 0;  // union members, and members a compiler placed at 0 without saying
    return true;
  }
  return dwarf_formudata(&attribute, &offset) == 0;  // a location expression: not followed
}

// Appends to `path` the way from an object of `type` down to the lock `offset` bytes into it.
void describe_offset(Dwarf_Die type, Dwarf_Word offset, std::string& path, int depth);

void describe_element(Dwarf_Die& array, Dwarf_Word offset, std::string& path, int depth) {
  Dwarf_Die element;
  Dwarf_Word element_size = 0;
  std::vector<Dwarf_Word> counts = dimensions(array);
  if (!type_of(array, element) || !byte_size(element, element_size) || element_size == 0 ||
      counts.empty()) {
    path += "+" + hex(offset);
    return;
  }
  // Every dimension counted, none empty, and the whole array's size representable: else the
  // arithmetic below would divide by zero or wrap (zero-length arrays, corrupt counts).
  Dwarf_Word stride = element_size;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0 || stride > std::numeric_limits<Dwarf_Word>::max() / counts[i]) {
      path += "+" + hex(offset);
      return;
    }
    if (i > 0) stride *= counts[i];
  }
  for (std::size_t i = 0; i < counts.size(); ++i) {
    path += "[" + std::to_string(offset / stride) + "]";
    offset %= stride;
    if (i + 1 < counts.size()) stride /= counts[i + 1];
  }
  describe_offset(element, offset, path, depth + 1);
}

void describe_member(Dwarf_Die& aggregate, Dwarf_Word offset, std::string& path, int depth) {
  const bool system_type = declared_in_system_header(aggregate);
  Dwarf_Die child;
  if (dwarf_child(&aggregate, &child) == 0) {
    do {
      const int tag = dwarf_tag(&child);
      if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
      if (dwarf_hasattr(&child, DW_AT_declaration) || dwarf_hasattr(&child, DW_AT_bit_size)) {
        continue;  // a static member (elsewhere in memory), or a bit-field (no lock)
      }
      Dwarf_Die member_type;
      Dwarf_Word start = 0;
      Dwarf_Word size = 0;
      if (!data_member_offset(child, start) || !type_of(child, member_type) ||
          !byte_size(member_type, size) || offset < start || offset - start >= size) {
        continue;
      }
      const char* name = dwarf_diename(&child);
      // Base classes, anonymous unions and the standard library's own members add no name.
      if (tag == DW_TAG_member && name != nullptr && !(system_type && name[0] == '_')) {
        path.append(1, '.').append(name);
      }
      describe_offset(member_type, offset - start, path, depth + 1);
      return;
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  if (offset != 0) path += "+" + hex(offset);
}

void describe_offset(Dwarf_Die type, Dwarf_Word offset, std::string& path, int depth) {
  constexpr int deepest = 32;
  // Typedefs first: pthread_mutex_t is a typedef of an anonymous union.
  for (; depth <= deepest && !is_lock_type(type); ++depth) {  // a typedef cycle must end
    const int tag = dwarf_tag(&type);
    if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
        tag != DW_TAG_atomic_type && tag != DW_TAG_restrict_type) {
      break;
    }
    if (!type_of(type, type)) return;
  }
  if (depth > deepest || is_lock_type(type)) {
    return;
  }
  switch (dwarf_tag(&type)) {
    case DW_TAG_array_type:
      describe_element(type, offset, path, depth);
      return;
    case DW_TAG_structure_type:
    case DW_TAG_class_type:
    case DW_TAG_union_type:
      describe_member(type, offset, path, depth);
      return;
    default:
      if (offset != 0) path += "+" + hex(offset);
      return;
  }
}

}  // namespace

const variable_names::variable_entries& variable_names::entries_of(Dwfl_Module* module) {
  auto [found, inserted] = modules_.try_emplace(module);
  if (inserted) {
    Dwarf_Addr bias = 0;
    for (Dwarf_Die* unit = dwfl_module_nextcu(module, nullptr, &bias); unit != nullptr;
         unit = dwfl_module_nextcu(module, unit, &bias)) {
      index_variables(*unit, bias, found->second, 0);
    }
  }
  return found->second;
}

std::string variable_names::name_at(Dwfl_Module* module, std::uintptr_t address) {
  GElf_Off offset = 0;
  GElf_Sym symbol{};
  const char* symbol_name =
      dwfl_module_addrinfo(module, address, &offset, &symbol, nullptr, nullptr, nullptr);
  if (symbol_name == nullptr || symbol_name[0] == '\0') return {};
  const int symbol_type = GELF_ST_TYPE(symbol.st_info);
  if (symbol_type != STT_OBJECT && symbol_type != STT_COMMON) return {};
  if (offset >= symbol.st_size && offset != 0) return {};
  std::string path = readable_function_name(symbol_name);

  const variable_entries& entries = entries_of(module);
  Dwarf_Addr bias = 0;
  Dwarf* debug_info = dwfl_module_getdwarf(module, &bias);
  auto entry = entries.find(static_cast<std::uintptr_t>(address - offset));
  Dwarf_Die variable;
  Dwarf_Die type;
  if (debug_info != nullptr && entry != entries.end() &&
      dwarf_offdie(debug_info, entry->second, &variable) != nullptr && type_of(variable, type)) {
    describe_offset(type, offset, path, 0);
  } else if (offset != 0) {
    path += "+" + hex(offset);
  }
  return path;
}

}  // namespace lockdep::detail

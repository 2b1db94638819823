#include "debug_info.hpp"

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <unistd.h>

#include "function_names.hpp"
#include "inlined_functions.hpp"

namespace lockdep::detail {
namespace {

// Separate debug files are looked up by build ID only (under /usr/lib/debug/.build-id, where
// Debian's -dbgsym and -dbg packages put them): dwfl_standard_find_debuginfo would also ask the
// debuginfod servers of DEBUGINFOD_URLS, and a report must not wait for a download.
const Dwfl_Callbacks process_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_build_id_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = nullptr,
};

bool is_loaded_at(Dwfl_Module* module, std::uintptr_t object_base) {
  if (module == nullptr) return false;
  Dwarf_Addr start = 0;
  if (dwfl_module_info(module, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr) ==
      nullptr) {
    return false;
  }
  return start == object_base;
}

}  // namespace

void process_debug_info::locate(std::uintptr_t ip, std::uintptr_t object_base, stack_frame& frame) {
  Dwfl_Module* module = module_of(ip, object_base);
  if (module == nullptr) return;
  Dwfl_Line* row = dwfl_module_getsrc(module, ip);
  if (row == nullptr) return;
  int line = 0;
  const char* file = dwfl_lineinfo(row, nullptr, &line, nullptr, nullptr, nullptr);
  // Line 0 is the compiler's "no source line" (code it generated).
  if (file == nullptr || line <= 0) return;
  frame.file = file;
  frame.line = static_cast<unsigned>(line);
  add_inlined_functions(module, ip, frame);
}

void process_debug_info::name_function(std::uintptr_t ip, std::uintptr_t object_base,
                                       stack_frame& frame) {
  Dwfl_Module* module = module_of(ip, object_base);
  if (module == nullptr) return;
  GElf_Off offset = 0;
  GElf_Sym symbol{};
  const char* name = dwfl_module_addrinfo(module, ip, &offset, &symbol, nullptr, nullptr, nullptr);
  if (name == nullptr || name[0] == '\0' || GELF_ST_TYPE(symbol.st_info) != STT_FUNC) return;
  const std::uintptr_t start = ip - offset;
  frame.function = readable_function_name(name);
  frame.offset = frame.address - start;
  frame.size = symbol.st_size;
}

std::string process_debug_info::variable_at(std::uintptr_t address, std::uintptr_t object_base) {
  // Looked up by the object's start: the part of .bss past the object's last file page is an
  // anonymous mapping, which libdwfl does not count as the object's.
  Dwfl_Module* module = module_of(object_base, object_base);
  return module != nullptr ? variables_.name_at(module, address) : std::string();
}

Dwfl_Module* process_debug_info::module_of(std::uintptr_t address, std::uintptr_t object_base) {
  if (!start()) return nullptr;
  Dwfl_Module* module = dwfl_addrmodule(session_, address);
  if (!is_loaded_at(module, object_base)) {
    // Loaded after the objects were last listed (dlopen), or replacing one that was unloaded.
    list_objects();
    module = dwfl_addrmodule(session_, address);
  }
  return module;
}

bool process_debug_info::start() {
  if (session_ == nullptr && !unavailable_) {
    session_ = dwfl_begin(&process_callbacks);
    unavailable_ = session_ == nullptr;
    if (session_ != nullptr) list_objects();
  }
  return session_ != nullptr;
}

void process_debug_info::list_objects() {
  variables_.clear();
  dwfl_report_begin(session_);
  // getpid(), not a saved pid: a forked child lists its own mappings (the same objects).
  dwfl_linux_proc_report(session_, getpid());
  dwfl_report_end(session_, nullptr, nullptr);
}

}  // namespace lockdep::detail

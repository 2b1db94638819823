#include "symbolization.hpp"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // dladdr1 and RTLD_DL_SYMENT are GNU extensions
#endif

#include <dlfcn.h>
#include <link.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <array>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "debug_info.hpp"
#include "function_names.hpp"

namespace lockdep::detail {

namespace {

using elf_symbol = ElfW(Sym);

struct code_range {
  std::uintptr_t start;
  std::uintptr_t size;
};

struct resolved_symbol {
  std::string name;  // as in the symbol table (mangled)
  code_range range;
};

bool is_main_executable(std::uintptr_t ip) {
  Dl_info object{};
  void* map_address = nullptr;
  if (dladdr1(reinterpret_cast<void*>(ip), &object, &map_address, RTLD_DL_LINKMAP) == 0) {
    return false;
  }
  const auto* map = static_cast<const link_map*>(map_address);
  // The dynamic loader names every object by its path except the main program.
  return map != nullptr && map->l_name != nullptr && map->l_name[0] == '\0';
}

// "/usr/lib/x86_64-linux-gnu/libc.so.6" -> "libc", as the kernel names a module.
std::string module_name(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);  // npos + 1 == 0 keeps it all
  for (auto at = name.find(".so"); at != std::string_view::npos; at = name.find(".so", at + 1)) {
    const std::size_t after = at + 3;
    if (after == name.size() || name[after] == '.') return std::string(name.substr(0, at));
  }
  return std::string(name);
}

// The bounds of the function containing ip, from its unwind information (FDE).
std::optional<code_range> unwind_range(std::uintptr_t ip) {
  unw_proc_info_t info{};
  if (unw_get_proc_info_by_ip(unw_local_addr_space, ip, &info, nullptr) != 0) return std::nullopt;
  if (info.end_ip <= info.start_ip || ip < info.start_ip || ip >= info.end_ip) return std::nullopt;
  return code_range{info.start_ip, info.end_ip - info.start_ip};
}

// The dynamic symbol dladdr found, if it really contains ip.
std::optional<resolved_symbol> exported_symbol(std::uintptr_t ip, const Dl_info& object,
                                               const elf_symbol* entry,
                                               const std::optional<code_range>& unwound) {
  if (object.dli_sname == nullptr || object.dli_saddr == nullptr) return std::nullopt;
  const auto start = reinterpret_cast<std::uintptr_t>(object.dli_saddr);
  std::uintptr_t size = entry != nullptr ? entry->st_size : 0;
  if (size == 0 && unwound) {
    // Assembly often has no symbol sizes; the unwind information still knows the bounds.
    if (unwound->start > start) return std::nullopt;
    if (unwound->start == start) size = unwound->size;
  }
  // Older loaders answer with the nearest exported symbol below ip whatever its size, which for
  // an internal function is an unrelated one.
  if (size != 0 && ip - start >= size) return std::nullopt;
  return resolved_symbol{object.dli_sname, {start, size}};
}

// libunwind reads the object's full symbol table from its file, so it also names internal
// functions (static, anonymous namespace) and programs linked without -rdynamic.
std::optional<resolved_symbol> symbol_table_entry(std::uintptr_t ip,
                                                  const std::optional<code_range>& unwound) {
  // Without unwind information there is nothing to check libunwind's answer against.
  if (!unwound) return std::nullopt;
  unw_accessors_t* accessors = unw_get_accessors(unw_local_addr_space);
  if (accessors == nullptr || accessors->get_proc_name == nullptr) return std::nullopt;
  std::array<char, 1024> name{};
  unw_word_t offset = 0;
  if (accessors->get_proc_name(unw_local_addr_space, ip, name.data(), name.size(), &offset,
                               nullptr) != 0) {
    return std::nullopt;
  }
  // It takes the nearest symbol below ip whatever its size (stripped libraries give absurd
  // answers), so only a symbol starting where ip's function starts is believed.
  if (ip - offset != unwound->start) return std::nullopt;
  return resolved_symbol{name.data(), *unwound};
}

// What resolve() learnt about an address, for the source line lookup that follows it.
struct resolved_frame {
  stack_frame frame;
  std::uintptr_t ip = 0;           // the address looked up: address - 1 for return addresses
  std::uintptr_t object_base = 0;  // where the object containing ip is loaded; 0: in none
};

resolved_frame resolve(std::uintptr_t address, bool is_return_address) {
  resolved_frame resolved;
  stack_frame& frame = resolved.frame;
  frame.address = address;
  const std::uintptr_t ip = is_return_address && address != 0 ? address - 1 : address;
  resolved.ip = ip;

  Dl_info object{};
  void* symbol_entry = nullptr;
  if (dladdr1(reinterpret_cast<void*>(ip), &object, &symbol_entry, RTLD_DL_SYMENT) == 0) {
    return resolved;  // not inside any loaded object (JIT code, garbage)
  }
  resolved.object_base = reinterpret_cast<std::uintptr_t>(object.dli_fbase);
  const auto* entry = static_cast<const elf_symbol*>(symbol_entry);
  if (object.dli_fname != nullptr && !is_main_executable(ip)) {
    frame.module = module_name(object.dli_fname);
  }

  const std::optional<code_range> unwound = unwind_range(ip);
  std::optional<resolved_symbol> symbol = exported_symbol(ip, object, entry, unwound);
  if (!symbol) symbol = symbol_table_entry(ip, unwound);

  if (symbol) {
    frame.function = readable_function_name(symbol->name.c_str());
    frame.offset = address - symbol->range.start;
    frame.size = symbol->range.size;
  } else if (unwound) {
    frame.offset = address - unwound->start;
    frame.size = unwound->size;
  }
  return resolved;
}

// The directory of the validator's sources (`.../lockdep`), from where this file was compiled.
std::string_view validator_source_root() {
  constexpr std::string_view this_file = __FILE__;
  constexpr std::string_view below_root = "/src/symbolization.cpp";
  if (!this_file.ends_with(below_root)) return {};
  return this_file.substr(0, this_file.size() - below_root.size());
}

// The validator's own code: its LD_PRELOAD libraries, and its sources compiled into a program
// (the lock types' lock functions). A trace shows such a frame by its function only, the lock
// function the program called, and nothing inlined into it.
void mark_validator_code(stack_frame& frame) {
  static const std::string_view root = validator_source_root();
  const std::string_view file = frame.file;
  const bool own_source = !root.empty() && file.starts_with(root) &&
                          (file.substr(root.size()).starts_with("/src/") ||
                           file.substr(root.size()).starts_with("/preload/"));
  frame.in_validator =
      own_source || frame.module == "liblockdep_preload" || frame.module == "liblockdep_free_watch";
  if (frame.in_validator) frame.inlined.clear();
}

// Code addresses are few, but arbitrary addresses could be passed in; forgetting everything now
// and then keeps the cache bounded.
constexpr std::size_t max_cached_frames = 1 << 16;

struct frame_cache {
  std::mutex mutex;
  std::array<std::unordered_map<std::uintptr_t, stack_frame>, 2> by_address;  // [is_return_address]
  process_debug_info debug_info;  // libdwfl's session, shared: used under `mutex` too
};

frame_cache& cached_frames() {
  // Never destroyed: reports can be symbolized from atexit handlers and exiting threads.
  static auto* const cache = new frame_cache;
  return *cache;
}

}  // namespace

void lock_symbol_cache_for_fork() {
  cached_frames().mutex.lock();
}
void unlock_symbol_cache_after_fork() {
  cached_frames().mutex.unlock();
}

stack_frame symbolize(std::uintptr_t address, bool is_return_address) {
  frame_cache& cache = cached_frames();
  auto& frames = cache.by_address[is_return_address ? 1 : 0];
  {
    std::lock_guard lock(cache.mutex);
    if (const auto it = frames.find(address); it != frames.end()) return it->second;
  }

  // Resolved without holding the mutex: dladdr and libunwind take the dynamic loader's lock, and
  // a thread running constructors inside dlopen holds that lock and may be symbolizing too.
  resolved_frame resolved = resolve(address, is_return_address);

  std::lock_guard lock(cache.mutex);
  // Under the mutex: the libdwfl session is shared and not thread-safe (see process_debug_info).
  if (resolved.object_base != 0) {
    if (resolved.frame.function.empty()) {
      cache.debug_info.name_function(resolved.ip, resolved.object_base, resolved.frame);
    }
    cache.debug_info.locate(resolved.ip, resolved.object_base, resolved.frame);
  }
  mark_validator_code(resolved.frame);
  if (frames.size() >= max_cached_frames) frames.clear();
  frames.emplace(address, resolved.frame);
  return resolved.frame;
}

std::string static_variable_name(const void* address) {
  Dl_info object{};
  // Not inside a loaded object: heap, stack or thread-local storage, which have no symbols.
  if (address == nullptr || dladdr(address, &object) == 0 || object.dli_fbase == nullptr) return {};
  frame_cache& cache = cached_frames();
  std::lock_guard lock(cache.mutex);
  return cache.debug_info.variable_at(reinterpret_cast<std::uintptr_t>(address),
                                      reinterpret_cast<std::uintptr_t>(object.dli_fbase));
}

stack_trace symbolize(std::span<const std::uintptr_t> addresses) {
  stack_trace trace;
  trace.reserve(addresses.size());
  for (const std::uintptr_t address : addresses) trace.push_back(symbolize(address, true));
  return trace;
}

}  // namespace lockdep::detail

#include "stack_trace.hpp"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // dladdr1 and RTLD_DL_SYMENT are GNU extensions
#endif

#include <cxxabi.h>
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "inlined_functions.hpp"

namespace lockdep {

namespace {

std::string hex(std::uintptr_t value) {
  std::array<char, 2 + 2 * sizeof value> digits{'0', 'x'};
  const auto end = std::to_chars(digits.data() + 2, digits.data() + digits.size(), value, 16).ptr;
  return std::string(digits.data(), end);
}

}  // namespace

std::string stack_frame::text() const {
  std::string result =
      function.empty() ? hex(address) : function + "+" + hex(offset) + "/" + hex(size);
  if (!module.empty()) result += " [" + module + "]";
  return result;
}

// decode_stacktrace.sh's parse_symbol() replaces `function+0xoff/0xsize` by `function (code)`,
// where code is what `addr2line -i` answers, and handle_line() appends the module it took out of
// its brackets. Two differences, both on purpose: one location, the line in `function` (the
// script joins addr2line's lines for the inlined functions into the parentheses; here they get
// lines of their own, see decoded_lines()), and the path as recorded. The script strips its
// base path, the root of the one kernel tree every frame comes from; a process's objects come
// from many trees, and the one base the debug information records, the compilation directory,
// is CMake's build directory and no prefix of the sources. A full path is also what compilers
// and debuggers print and what an editor opens.
std::string stack_frame::decoded_text() const {
  if (function.empty() || file.empty() || line == 0) return text();
  std::string result = function + " (" + file + ":" + std::to_string(line) + ")";
  if (!module.empty()) result += " " + module;
  return result;
}

std::string inlined_function::decoded_text() const {
  if (file.empty() || line == 0) return function;
  return function + " (" + file + ":" + std::to_string(line) + ")";
}

// One line per function, as ThreadSanitizer and `eu-addr2line -i` print an inlined call, so
// that the user's line stands on its own line, last, where the frame's module is. Each line
// starts with its function, as every other frame line does; the tag follows, where arm64 traces
// tag a frame (`(P)`) and decode_stacktrace.sh keeps it.
std::vector<std::string> stack_frame::decoded_lines() const {
  std::vector<std::string> lines;
  lines.reserve(inlined.size() + 1);
  for (const inlined_function& callee : inlined) {
    lines.push_back(callee.decoded_text() + " (inlined)");
  }
  lines.push_back(decoded_text());
  return lines;
}

}  // namespace lockdep

namespace lockdep::detail {

namespace {

// unw_backtrace is far faster than stepping frame by frame, but needs a buffer that also holds
// the skipped frames; requests deeper than this take the slow path instead.
constexpr std::size_t fast_capture_depth = 256;

std::size_t copy_unskipped(std::span<void* const> captured, std::size_t skipped,
                           std::uintptr_t* out) {
  if (captured.size() <= skipped) return 0;
  const auto kept = captured.subspan(skipped);
  std::ranges::transform(kept, out, [](void* ip) { return reinterpret_cast<std::uintptr_t>(ip); });
  return kept.size();
}

}  // namespace

[[gnu::noinline]] std::size_t capture_stack(std::uintptr_t* out, std::size_t max_frames,
                                            std::size_t skip) {
  if (max_frames == 0) return 0;
  const std::size_t skipped = skip + 1;  // our own frame comes first

  if (skipped < fast_capture_depth && max_frames <= fast_capture_depth - skipped) {
    std::array<void*, fast_capture_depth> buffer;
    const int captured = unw_backtrace(buffer.data(), static_cast<int>(max_frames + skipped));
    const auto valid = static_cast<std::size_t>(std::max(captured, 0));  // negative on failure
    return copy_unskipped(std::span(buffer.data(), valid), skipped, out);
  }

  // The walk stays in this function's body: a helper could be tail-called, which would free the
  // very frame the cursor starts from.
  unw_context_t context;
  unw_cursor_t cursor;
  if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0) return 0;
  std::size_t depth = 0;  // 0 is this frame, 1 our caller
  std::size_t written = 0;
  while (written < max_frames && unw_step(&cursor) > 0) {
    if (++depth <= skip) continue;
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0) break;
    out[written++] = ip;
  }
  return written;
}

namespace {

// The validator's own frames between a capture and the lock function (four or five for a new
// dependency; more through the preload's interposers).
constexpr std::size_t own_frames_room = 16;

}  // namespace

std::size_t current_raw_stack(const void* ip, std::uintptr_t* out, std::size_t max_frames) {
  max_frames = std::min(max_frames, max_captured_frames);
  // Unwinding a frame costs about 8 ns, so the walk stops once it has the frames kept plus
  // room for the validator's own, instead of at the bottom of a deep stack. If that cuts the
  // trace (the caller is not among them, or too deep among them to leave the frames kept),
  // the whole stack is walked. unw_backtrace is called from here, not through capture_stack(),
  // which would be one more frame to walk on every new dependency.
  std::array<void*, max_captured_frames> frames;
  auto start_of_caller = [ip, &frames](std::size_t count) -> std::size_t {
    if (ip == nullptr) return 0;  // no caller to look for: the stack as it is
    // The lock function: the frame just inside the one that returns to `ip`.
    auto caller = std::find(frames.begin(), frames.begin() + count, ip);
    return caller != frames.begin() + count && caller != frames.begin()
               ? caller - frames.begin() - 1
               : count;
  };
  std::size_t wanted = std::min(max_frames + own_frames_room, max_captured_frames);
  std::size_t count =
      static_cast<std::size_t>(std::max(unw_backtrace(frames.data(), static_cast<int>(wanted)), 0));
  std::size_t start = start_of_caller(count);
  // The short walk missed the caller, or found it so deep that the frames kept were cut.
  bool cut = count == wanted && (start == count || count - start < max_frames);
  if (cut && wanted < max_captured_frames) {
    count = static_cast<std::size_t>(
        std::max(unw_backtrace(frames.data(), static_cast<int>(max_captured_frames)), 0));
    start = start_of_caller(count);
  }
  if (start == count) start = 0;  // no caller found: keep the stack as it is
  std::size_t kept = std::min(count - start, max_frames);
  std::ranges::transform(frames.begin() + start, frames.begin() + start + kept, out,
                         [](void* frame) { return reinterpret_cast<std::uintptr_t>(frame); });
  return kept;
}

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

// Separate debug files are looked up by build ID only (under /usr/lib/debug/.build-id, where
// Debian's -dbgsym and -dbg packages put them): dwfl_standard_find_debuginfo would also ask the
// debuginfod servers of DEBUGINFOD_URLS, and a report must not wait for a download.
const Dwfl_Callbacks process_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_build_id_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = nullptr,
};

// The source lines of the running process's code, from the DWARF line tables and scopes of its
// objects (elfutils' libdwfl and libdw). The session lists the objects mapped in the process, opens
// each one's debug information on first use and keeps it. Not thread-safe (libdwfl sessions are
// not): the frame cache's mutex serializes every use, which also keeps fork() from copying a
// session in the middle of an update. libdwfl takes no lock of the dynamic loader, so holding that
// mutex across its calls cannot deadlock with a thread inside dlopen. Not copyable or movable.
class source_lines {
 public:
  source_lines() = default;
  source_lines(const source_lines&) = delete;
  source_lines& operator=(const source_lines&) = delete;

  // Sets frame.file and frame.line from the line table row covering ip, inside the object
  // loaded at object_base, and when that code was inlined, the functions inlined there
  // (frame.inlined) with the line in frame.function instead. Leaves them empty when anything is
  // missing: no debug information, no row, or libdwfl failing in any way (silently: frames then
  // just have no location).
  void locate(std::uintptr_t ip, std::uintptr_t object_base, stack_frame& frame) {
    if (!start()) return;
    Dwfl_Module* module = dwfl_addrmodule(session_, ip);
    if (!is_loaded_at(module, object_base)) {
      // Loaded after the objects were last listed (dlopen), or replacing one that was unloaded.
      list_objects();
      module = dwfl_addrmodule(session_, ip);
    }
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

 private:
  // Created on first use: programs that never report never read any debug information.
  bool start() {
    if (session_ == nullptr && !unavailable_) {
      session_ = dwfl_begin(&process_callbacks);
      unavailable_ = session_ == nullptr;
      if (session_ != nullptr) list_objects();
    }
    return session_ != nullptr;
  }

  // Replaces the session's objects by those mapped now; objects still mapped where they were
  // keep the debug information already read.
  void list_objects() {
    dwfl_report_begin(session_);
    // getpid(), not a saved pid: a forked child lists its own mappings (the same objects).
    dwfl_linux_proc_report(session_, getpid());
    dwfl_report_end(session_, nullptr, nullptr);
  }

  static bool is_loaded_at(Dwfl_Module* module, std::uintptr_t object_base) {
    if (module == nullptr) return false;
    Dwarf_Addr start = 0;
    if (dwfl_module_info(module, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr) ==
        nullptr) {
      return false;
    }
    return start == object_base;
  }

  Dwfl* session_ = nullptr;  // never ended: frames may be symbolized until the process exits
  bool unavailable_ = false;
};

// Code addresses are few, but arbitrary addresses could be passed in; forgetting everything now
// and then keeps the cache bounded.
constexpr std::size_t max_cached_frames = 1 << 16;

struct frame_cache {
  std::mutex mutex;
  std::array<std::unordered_map<std::uintptr_t, stack_frame>, 2> by_address;  // [is_return_address]
  source_lines lines;  // libdwfl's session, shared: used under `mutex` too
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
  // Under the mutex: the libdwfl session is shared and not thread-safe (see source_lines).
  if (resolved.object_base != 0) {
    cache.lines.locate(resolved.ip, resolved.object_base, resolved.frame);
  }
  if (frames.size() >= max_cached_frames) frames.clear();
  frames.emplace(address, resolved.frame);
  return resolved.frame;
}

stack_trace symbolize(std::span<const std::uintptr_t> addresses) {
  stack_trace trace;
  trace.reserve(addresses.size());
  for (const std::uintptr_t address : addresses) trace.push_back(symbolize(address, true));
  return trace;
}

namespace {

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// GCC clones ("_Z3foov.part.0") demangle as "foo() [clone .part.0]"; the kernel prints the
// symbol, "foo.part.0". Removes the clone markers from `demangled` and returns their suffixes.
std::string take_clone_suffixes(std::string_view& demangled) {
  constexpr std::string_view marker = " [clone ";
  std::string suffixes;
  while (demangled.ends_with(']')) {
    const auto at = demangled.rfind(marker);
    if (at == std::string_view::npos) break;
    const auto suffix = demangled.substr(at + marker.size());
    suffixes.insert(0, suffix.substr(0, suffix.size() - 1));
    demangled = demangled.substr(0, at);
  }
  return suffixes;
}

// Thunks keep their description: they are distinct code from the function they lead to.
std::string_view take_thunk_prefix(std::string_view& demangled) {
  for (const std::string_view prefix :
       {"non-virtual thunk to ", "virtual thunk to ", "covariant return thunk to "}) {
    if (demangled.starts_with(prefix)) {
      demangled.remove_prefix(prefix.size());
      return prefix;
    }
  }
  return {};
}

void drop_trailing_qualifiers(std::string_view& function) {
  constexpr std::array<std::string_view, 7> qualifiers{
      " const", " volatile", " restrict", " &&", " &", " noexcept", " transaction_safe"};
  for (bool dropped = true; dropped;) {
    dropped = false;
    for (const std::string_view qualifier : qualifiers) {
      if (function.ends_with(qualifier)) {
        function.remove_suffix(qualifier.size());
        dropped = true;
      }
    }
  }
}

// Where the parameter list of "name(params)" opens, or npos when it does not end in one.
std::size_t parameter_list_start(std::string_view function) {
  if (!function.ends_with(')')) return std::string_view::npos;
  int depth = 0;
  for (std::size_t i = function.size(); i-- > 0;) {
    if (function[i] == ')') {
      ++depth;
    } else if (function[i] == '(' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// The length of the operator spelled at the start of `text` ("<=>", "()", "<", ...), 0 if none.
std::size_t operator_symbol_length(std::string_view text) {
  constexpr std::string_view operators[] = {
      "<=>", "<<=", ">>=", "->*", "()", "[]", "<<", ">>", "<=", ">=", "->", "==", "!=",
      "&&",  "||",  "++",  "--",  "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "+",
      "-",   "*",   "/",   "%",   "^",  "&",  "|",  "~",  "!",  "=",  "<",  ">",  ","};
  for (const std::string_view spelling : operators) {  // longest spellings come first
    if (text.starts_with(spelling)) return spelling.size();
  }
  return 0;
}

bool operator_keyword_at(std::string_view text, std::size_t at) {
  constexpr std::string_view keyword = "operator";
  if (text.substr(at, keyword.size()) != keyword) return false;
  const std::size_t after = at + keyword.size();
  return (at == 0 || !is_identifier_char(text[at - 1])) &&
         (after == text.size() || !is_identifier_char(text[after]));
}

// "void ns::f<int>" -> "ns::f<int>": the return type ends at the last space outside brackets.
// Operator names are skipped whole, as their '<' and '>' are no brackets.
std::string_view drop_return_type(std::string_view function) {
  std::size_t name_start = 0;
  int depth = 0;
  for (std::size_t i = 0; i < function.size();) {
    if (operator_keyword_at(function, i)) {
      i += std::string_view("operator").size();
      const std::size_t length = operator_symbol_length(function.substr(i));
      // "operator new", "operator bool", literal operators: the rest is the operator's name.
      if (length == 0) break;
      i += length;
      // The demangler writes "operator< <int>" so that it does not read as "operator<<".
      if (function.substr(i).starts_with(" <")) ++i;
      continue;
    }
    const char c = function[i];
    if (c == '-' && function.substr(i).starts_with("->")) {
      i += 2;  // p->x in a decltype: no closing bracket
      continue;
    }
    if (c == '(' || c == '<' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == '>' || c == ']' || c == '}') {
      --depth;
    } else if (c == ' ' && depth == 0) {
      name_start = i + 1;
    }
    ++i;
  }
  return function.substr(name_start);
}

std::string strip_signature(std::string_view demangled) {
  std::string_view function = demangled;
  const std::string clone_suffixes = take_clone_suffixes(function);
  const std::string_view thunk_prefix = take_thunk_prefix(function);
  drop_trailing_qualifiers(function);
  const std::size_t parameters = parameter_list_start(function);
  // Not a function ("vtable for ns::S", a variable): nothing to strip.
  if (parameters == std::string_view::npos) return std::string(demangled);
  const std::string_view name = drop_return_type(function.substr(0, parameters));
  return std::string(thunk_prefix).append(name).append(clone_suffixes);
}

}  // namespace

std::string readable_function_name(const char* symbol) {
  if (symbol == nullptr) return {};
  // Only "_Z" names are mangled functions; __cxa_demangle would also "demangle" a C function
  // named "f" into the type "float".
  if (!std::string_view(symbol).starts_with("_Z")) return symbol;
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(symbol, nullptr, nullptr, &status), &std::free);
  if (status != 0 || demangled == nullptr) return symbol;
  return strip_signature(demangled.get());
}

}  // namespace lockdep::detail

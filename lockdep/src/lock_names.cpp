#include "lock_names.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "code_origin.hpp"
#include "symbolization.hpp"

namespace lockdep::detail {
namespace {

// A class name and where it comes from, wherever the report holds one.
struct named_class {
  std::string* name;
  const unnamed_lock* source;
};

std::vector<named_class> unnamed_classes_in(report& named) {
  std::vector<named_class> found;
  auto add = [&found](std::string& name, const unnamed_lock& source) {
    if (source.address != nullptr) found.push_back({&name, &source});
  };
  auto add_lock = [&add](lock_description& lock) { add(lock.class_name, lock.name_source); };
  add_lock(named.acquiring);
  add_lock(named.holding);
  for (lock_description& held : named.held_locks) add_lock(held);
  for (dependency_step& step : named.chain) add(step.class_name, step.name_source);
  for (thread_held_locks& thread : named.all_held_locks) {
    for (lock_description& held : thread.locks) add_lock(held);
  }
  return found;
}

std::string_view base_name(std::string_view path) {
  return path.substr(path.rfind('/') + 1);  // npos + 1 == 0: the whole path
}

// The kernel's `/N` of a subclass other than 0, ending `name`; empty when there is none.
std::string_view subclass_suffix(std::string_view name) {
  const std::size_t slash = name.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == name.size()) return {};
  for (char c : name.substr(slash + 1)) {
    if (c < '0' || c > '9') return {};
  }
  return name.substr(slash);
}

// `file:line` of the program's first line in `first_use`, innermost first, inlined functions
// included: past the validator's frame and the library wrappers a lock call goes through
// (std::lock_guard, std::mutex::lock, __gthread_mutex_lock, inlined or not). Empty when the
// program's first line has no source line, or the stack never reaches the program.
std::string program_line(const stack_trace& first_use) {
  auto line_text = [](std::string_view file, unsigned line) {
    return std::string(base_name(file)) + ":" + std::to_string(line);
  };
  for (const stack_frame& frame : first_use) {
    if (frame.in_validator) continue;
    // Each inlined function runs the line recorded with it; the frame's function, the line
    // that calls the outermost of them.
    for (const inlined_function& callee : frame.inlined) {
      if (is_library_code(callee.function, callee.file, frame.module)) continue;
      return callee.file.empty() || callee.line == 0 ? std::string()
                                                     : line_text(callee.file, callee.line);
    }
    if (is_library_code(frame.function, frame.file, frame.module)) continue;
    return frame.file.empty() || frame.line == 0 ? std::string()
                                                 : line_text(frame.file, frame.line);
  }
  return {};
}

// The lock's name without suffixes: its variable, else the program's line that first used it,
// else nothing (the validator's own name stays).
std::string name_of(const unnamed_lock& source, const stack_trace& first_use) {
  std::string variable = static_variable_name(source.address);
  return !variable.empty() ? variable : program_line(first_use);
}

}  // namespace

bool has_unnamed_locks(report& candidate) {
  return !unnamed_classes_in(candidate).empty();
}

void name_unnamed_locks(report& named) {
  // One name per lock, so each class reads the same wherever it appears; then the `#N` that
  // tells apart locks sharing a name, counted in the order the locks first appear.
  struct lock_name {
    const void* address;
    std::string name;  // without suffixes; empty: keeps the validator's
    unsigned version;  // the kernel's name_version: 1 prints no `#N`
  };
  std::vector<lock_name> names;
  const std::vector<named_class> classes = unnamed_classes_in(named);
  for (const named_class& found : classes) {
    const void* address = found.source->address;
    bool known = false;
    for (const lock_name& seen : names) known = known || seen.address == address;
    if (known) continue;
    // A lock first taken in the very acquisition reported has no first use recorded yet (its
    // first dependency was refused): it is the report's own stack. Only for reports on an
    // acquisition: a lock first taken by a trylock may wait for its first use for good.
    const bool reports_acquisition = named.kind == report_kind::circular_dependency ||
                                     named.kind == report_kind::recursive_locking;
    const bool first_use_now = reports_acquisition && found.source->named_by_first_use &&
                               found.source->first_use.empty() &&
                               found.source->address == named.acquiring.name_source.address;
    std::string name =
        name_of(*found.source, first_use_now ? named.backtrace : found.source->first_use);
    unsigned version = 1;
    for (const lock_name& seen : names) {
      if (!name.empty() && seen.name == name) ++version;
    }
    names.push_back({address, std::move(name), version});
  }
  for (const named_class& found : classes) {
    for (const lock_name& chosen : names) {
      if (chosen.address != found.source->address || chosen.name.empty()) continue;
      std::string renamed = chosen.name;
      if (chosen.version > 1) renamed += "#" + std::to_string(chosen.version);
      renamed += subclass_suffix(*found.name);
      *found.name = std::move(renamed);
    }
  }
}

}  // namespace lockdep::detail

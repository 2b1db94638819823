#include "lock_names.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// The lock's name without suffixes: its variable, else the line that first used it, else
// nothing (the validator's own name stays).
std::string name_of(const unnamed_lock& source) {
  std::string variable = static_variable_name(source.address);
  if (!variable.empty()) return variable;
  const stack_frame& first_use = source.first_used_at;
  if (!first_use.file.empty() && first_use.line != 0) {
    return std::string(base_name(first_use.file)) + ":" + std::to_string(first_use.line);
  }
  return {};
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
    std::string name = name_of(*found.source);
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

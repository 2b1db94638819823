#include "callsite_keys.hpp"

#include <cstdint>
#include <cstdio>
#include <new>
#include <string>

#include "spin_lock.hpp"
#include "symbolization.hpp"

namespace lockdep::preload {
namespace {

constexpr std::size_t max_sites = 4096;  // a power of two: open addressing masks with it

struct site_key {
  const void* site = nullptr;
  char name[96] = {};
  alignas(lock_class_key) unsigned char storage[sizeof(lock_class_key)] = {};
};

constinit spin_lock sites_lock;
constinit site_key sites[max_sites];
std::size_t sites_used = 0;

// The validator's symbolizer names static functions too (from unwind information and the
// symbol table), which dladdr cannot.
void name_site(char* out, std::size_t size, const void* site) {
  std::string name = detail::symbolize(reinterpret_cast<std::uintptr_t>(site)).text();
  std::snprintf(out, size, "%s", name.c_str());
}

}  // namespace

lock_class_key* key_for_callsite(const void* site) {
  // Named before taking the table lock: dladdr takes the loader's lock and may be slow.
  char name[sizeof(site_key::name)];
  name_site(name, sizeof name, site);
  spin_guard guard(sites_lock);
  auto hash =
      static_cast<std::size_t>((static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(site)) *
                                0x9e3779b97f4a7c15ull) >>
                               52);
  for (std::size_t probe = 0; probe < max_sites; ++probe) {
    site_key& slot = sites[(hash + probe) & (max_sites - 1)];
    if (slot.site == site) {
      return std::launder(reinterpret_cast<lock_class_key*>(slot.storage));
    }
    if (slot.site != nullptr) continue;
    // Keep a quarter free so probes stay short.
    if (sites_used >= max_sites - max_sites / 4) return nullptr;
    slot.site = site;
    for (std::size_t i = 0; i + 1 < sizeof slot.name && name[i] != '\0'; ++i)
      slot.name[i] = name[i];
    ++sites_used;
    return new (slot.storage) lock_class_key(slot.name);
  }
  return nullptr;
}

void lock_callsite_keys_for_fork() {
  sites_lock.lock();
}

void unlock_callsite_keys_after_fork() {
  sites_lock.unlock();
}

}  // namespace lockdep::preload

// report::json(): a report as one JSON object on one line, for machines: CI annotations,
// de-duplication across runs (`id`), dashboards. Every field of the structured report is
// there, so nothing needs to be parsed back out of the kernel text (which is included too).
#include <fmt/format.h>

#include <iterator>
#include <string>

#include "json_text.hpp"
#include "lockdep/options.hpp"
#include "lockdep/report.hpp"
#include "report_output.hpp"

namespace lockdep {
namespace {

using detail::append_json_frame;
using detail::append_json_string;
using detail::append_json_trace;

const char* access_name(lock_access access) {
  switch (access) {
    case lock_access::exclusive:
      return "exclusive";
    case lock_access::shared:
      return "shared";
    case lock_access::shared_recursive:
      return "shared_recursive";
  }
  return "exclusive";
}

// Appends `"name":` and the string, with a leading comma.
void append_field(std::string& out, const char* name, std::string_view value) {
  fmt::format_to(std::back_inserter(out), ",\"{}\":", name);
  append_json_string(out, value);
}

void append_lock(std::string& out, const lock_description& lock) {
  fmt::format_to(std::back_inserter(out), "{{\"instance\":\"0x{:x}\"",
                 reinterpret_cast<std::uintptr_t>(lock.instance));
  append_field(out, "class", lock.class_name);
  append_field(out, "usage", lock.usage);
  append_field(out, "access", access_name(lock.access));
  fmt::format_to(std::back_inserter(out), ",\"trylock\":{},\"acquired_at\":", lock.trylock);
  append_json_frame(out, lock.acquired_at);
  out += '}';
}

bool described(const lock_description& lock) {
  return lock.instance != nullptr || !lock.class_name.empty();
}

}  // namespace

std::string report::json() const {
  return json(detail::text_options_of(current_options()));
}

std::string report::json(const text_options& shown) const {
  std::string out = "{\"kind\":";
  auto to = std::back_inserter(out);
  append_json_string(out, to_string(kind));
  append_field(out, "id", id);
  out += ",\"thread\":{\"comm\":";
  append_json_string(out, thread.comm);
  fmt::format_to(to, ",\"tid\":{}}},\"cpu\":{},\"timestamp\":{:.6f}", thread.tid, cpu, timestamp);

  if (described(acquiring)) {
    out += ",\"acquiring\":";
    append_lock(out, acquiring);
  }
  if (described(holding)) {
    out += ",\"holding\":";
    append_lock(out, holding);
  }
  if (kind == report_kind::circular_dependency) {
    out += ",\"cycle\":[";
    std::vector<std::string> classes = cycle();
    for (std::size_t i = 0; i < classes.size(); ++i) {
      if (i != 0) out += ',';
      append_json_string(out, classes[i]);
    }
    // Printed order, as in the text: #D (the held lock's class) first; each step's trace
    // recorded the dependency that leads to it.
    out += "],\"chain\":[";
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (i != 0) out += ',';
      out += "{\"class\":";
      append_json_string(out, chain[i].class_name);
      append_field(out, "usage", chain[i].usage);
      out += ",\"trace\":";
      append_json_trace(out, chain[i].trace);
      out += '}';
    }
    out += ']';
  }
  out += ",\"held_locks\":[";
  for (std::size_t i = 0; i < held_locks.size(); ++i) {
    if (i != 0) out += ',';
    append_lock(out, held_locks[i]);
  }
  out += "],\"backtrace\":";
  append_json_trace(out, backtrace);

  switch (kind) {
    case report_kind::held_lock_freed:
      fmt::format_to(to, ",\"freed_from\":\"0x{:x}\",\"freed_to\":\"0x{:x}\"",
                     reinterpret_cast<std::uintptr_t>(freed_from),
                     reinterpret_cast<std::uintptr_t>(freed_to));
      break;
    case report_kind::capacity_exhausted:
    case report_kind::lock_depth_overflow:
      append_field(out, "limit_name", limit_name);
      append_field(out, "limit_option", limit_option);
      fmt::format_to(to, ",\"limit_value\":{}", limit_value);
      if (kind == report_kind::lock_depth_overflow) fmt::format_to(to, ",\"depth\":{}", depth);
      break;
    case report_kind::invalid_subclass:
      fmt::format_to(to, ",\"subclass\":{}", subclass);
      break;
    case report_kind::hung_task:
      fmt::format_to(to,
                     ",\"blocked_seconds\":{:.3f},\"hang_timeout_seconds\":{:.3f},"
                     "\"validator_off\":{}",
                     blocked_seconds, hang_timeout_seconds, validator_off);
      out += ",\"all_held_locks\":[";
      for (std::size_t i = 0; i < all_held_locks.size(); ++i) {
        const thread_held_locks& thread = all_held_locks[i];
        if (i != 0) out += ',';
        out += "{\"thread\":{\"comm\":";
        append_json_string(out, thread.thread.comm);
        fmt::format_to(to,
                       ",\"tid\":{}}},\"waiting\":{},\"held_count\":{},"
                       "\"waiting_seconds\":{:.3f},\"locks\":[",
                       thread.thread.tid, thread.waiting, thread.held_count,
                       thread.waiting_seconds);
        for (std::size_t j = 0; j < thread.locks.size(); ++j) {
          if (j != 0) out += ',';
          append_lock(out, thread.locks[j]);
        }
        out += "]}";
      }
      out += ']';
      break;
    case report_kind::assertion_failed:
    case report_kind::warning:
      append_field(out, "assertion", assertion);
      out += ",\"assertion_site\":";
      append_json_frame(out, assertion_site);
      break;
    default:
      break;
  }
  std::string text;
  for (const std::string& line : kernel_lines(shown)) text.append(line).append(1, '\n');
  append_field(out, "kernel_text", text);
  out += '}';
  return out;
}

}  // namespace lockdep

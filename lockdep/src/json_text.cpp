#include "json_text.hpp"

#include <fmt/format.h>

#include <iterator>

namespace lockdep::detail {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;  // UTF-8 passes through; other high bytes too (names are what the user gave)
        }
    }
  }
  out += '"';
}

namespace {

void append_json_inlined_function(std::string& out, const inlined_function& function) {
  out += "{\"function\":";
  append_json_string(out, function.function);
  out += ",\"file\":";
  append_json_string(out, function.file);
  fmt::format_to(std::back_inserter(out), ",\"line\":{}}}", function.line);
}

}  // namespace

void append_json_frame(std::string& out, const stack_frame& frame) {
  fmt::format_to(std::back_inserter(out), "{{\"address\":\"0x{:x}\",\"function\":", frame.address);
  append_json_string(out, frame.function);
  fmt::format_to(std::back_inserter(out), ",\"offset\":{},\"size\":{},\"module\":", frame.offset,
                 frame.size);
  append_json_string(out, frame.module);
  out += ",\"file\":";
  append_json_string(out, frame.file);
  fmt::format_to(std::back_inserter(out), ",\"line\":{}", frame.line);
  out += ",\"inlined\":[";
  for (std::size_t i = 0; i < frame.inlined.size(); ++i) {
    if (i != 0) out += ',';
    append_json_inlined_function(out, frame.inlined[i]);
  }
  out += "],\"in_validator\":";
  out += frame.in_validator ? "true" : "false";
  out += ",\"text\":";
  append_json_string(out, frame.text());
  out += '}';
}

void append_json_trace(std::string& out, const stack_trace& trace) {
  out += '[';
  for (std::size_t i = 0; i < trace.size(); ++i) {
    if (i != 0) out += ',';
    append_json_frame(out, trace[i]);
  }
  out += ']';
}

}  // namespace lockdep::detail

// Small pieces of JSON output shared by the graph export and the JSON report lines: strings
// escaped per RFC 8259 (so class names and symbols of any bytes stay valid JSON) and stack
// frames as objects. No JSON library: the output is simple and only written, never parsed.
#pragma once

#include <string>
#include <string_view>

#include "lockdep/report.hpp"

namespace lockdep::detail {

// Appends `text` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view text);

// {"address":"0x...","function":"...","offset":N,"size":N,"module":"...","file":"...","line":N,
//  "inlined":[{"function":"...","file":"...","line":N},...],"text":"f+0x1/0x2"}; file "" and
// line 0 when the source line is unknown. "inlined" lists the functions inlined at the address,
// innermost first, as stack_frame::inlined; "file" and "line" are the line in "function".
void append_json_frame(std::string& out, const stack_frame& frame);
// [frame, frame, ...]
void append_json_trace(std::string& out, const stack_trace& trace);

}  // namespace lockdep::detail

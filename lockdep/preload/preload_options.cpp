#include "preload_options.hpp"

#include <charconv>

namespace lockdep::preload {
namespace {

bool is_preload_key(std::string_view key) {
  return key == "exitcode" || key == "preload_classes" || key == "watch_frees";
}

// Calls visit(position, key, value, entry_length) for each `key=value` entry.
template <typename Visit>
void for_each_entry(std::string_view text, Visit visit) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(':', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    std::size_t equals = entry.find('=');
    if (equals != std::string_view::npos) {
      visit(start, entry.substr(0, equals), entry.substr(equals + 1), entry.size());
    }
    start = end + 1;
  }
}

}  // namespace

preload_options read_preload_options(std::string_view text,
                                     std::vector<preload_option_error>* errors) {
  preload_options read;
  auto fail = [&](std::size_t position, std::string message) {
    if (errors != nullptr) errors->push_back({position, std::move(message)});
  };
  for_each_entry(text, [&](std::size_t position, std::string_view key, std::string_view value,
                           std::size_t) {
    if (key == "exitcode") {
      int code = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), code);
      if (error != std::errc{} || end != value.data() + value.size() || code < 0 || code > 255) {
        fail(position, "'exitcode' expects an integer from 0 to 255");
      } else {
        read.exitcode = code;
      }
    } else if (key == "preload_classes") {
      if (value == "instance") {
        read.classes = class_mode::per_instance;
      } else if (value == "callsite") {
        read.classes = class_mode::per_callsite;
      } else {
        fail(position, "'preload_classes' expects instance or callsite");
      }
    } else if (key == "watch_frees") {
      if (value == "1") {
        read.watch_frees = true;
      } else if (value == "0") {
        read.watch_frees = false;
      } else {
        fail(position, "'watch_frees' expects 0 or 1");
      }
    }
  });
  return read;
}

std::string hide_preload_keys(std::string_view text) {
  std::string hidden(text);
  for_each_entry(
      text, [&](std::size_t position, std::string_view key, std::string_view, std::size_t length) {
        if (is_preload_key(key)) hidden.replace(position, length, length, ':');
      });
  return hidden;
}

}  // namespace lockdep::preload

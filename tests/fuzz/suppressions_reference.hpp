// A reference reading of suppression files for the suppressions fuzzer, written from the
// format in suppressions.hpp and the README: one rule per line (lines end at '\n'; spaces, tabs
// and '\r' around a line and its parts do not count); blank lines and lines starting with `#`
// are ignored; `order: A -> B` (both sides non-empty, split at the first `->`) and
// `function: F` (F non-empty) are rules; any other line is an error, numbered from 1.
//
// Patterns are matched by a dynamic program over (pattern prefix, text prefix), a different
// algorithm from lockdep's backtracking matcher: `*` matches any run of characters, every other
// character itself.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lockdep_fuzz {

struct reference_order_rule {
  std::string from;
  std::string to;
};

struct reference_suppressions {
  std::vector<reference_order_rule> orders;
  std::vector<std::string> functions;
  std::vector<std::size_t> error_lines;
};

inline std::string_view without_blanks(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

inline reference_suppressions parse_suppressions_reference(std::string_view text) {
  reference_suppressions parsed;
  std::size_t number = 0;
  while (!text.empty()) {
    std::size_t newline = text.find('\n');
    std::string_view line = without_blanks(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::size_t colon = line.find(':');
    std::string_view type = without_blanks(line.substr(0, colon));
    std::string_view rule = colon == std::string_view::npos
                                ? std::string_view{}
                                : without_blanks(line.substr(colon + 1));
    if (colon != std::string_view::npos && type == "function" && !rule.empty()) {
      parsed.functions.emplace_back(rule);
      continue;
    }
    if (colon != std::string_view::npos && type == "order") {
      std::size_t arrow = rule.find("->");
      if (arrow != std::string_view::npos) {
        std::string_view from = without_blanks(rule.substr(0, arrow));
        std::string_view to = without_blanks(rule.substr(arrow + 2));
        if (!from.empty() && !to.empty()) {
          parsed.orders.push_back({std::string(from), std::string(to)});
          continue;
        }
      }
    }
    parsed.error_lines.push_back(number);
  }
  return parsed;
}

// After i pattern characters, matched[j]: pattern[0, i) matches text[0, j).
inline bool glob_matches_reference(std::string_view pattern, std::string_view text) {
  std::vector<unsigned char> matched(text.size() + 1, 0);
  std::vector<unsigned char> next(text.size() + 1, 0);
  matched[0] = 1;
  for (char wanted : pattern) {
    for (std::size_t j = 0; j <= text.size(); ++j) {
      if (wanted == '*') {
        next[j] = matched[j] || (j > 0 && next[j - 1]);
      } else {
        next[j] = j > 0 && matched[j - 1] && text[j - 1] == wanted;
      }
    }
    matched.swap(next);
  }
  return matched[text.size()] != 0;
}

}  // namespace lockdep_fuzz

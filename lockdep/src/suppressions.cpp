#include "lockdep/suppressions.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lockdep {
namespace {

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view space = " \t\r";
  std::size_t start = text.find_first_not_of(space);
  if (start == std::string_view::npos) return {};
  std::size_t end = text.find_last_not_of(space);
  return text.substr(start, end - start + 1);
}

// Every function name a report shows: where its locks were taken, its backtrace and the traces
// of its dependency chain.
template <class Visit>
bool any_function(const report& candidate, Visit matches) {
  auto frame_matches = [&](const stack_frame& frame) {
    return !frame.function.empty() && matches(frame.function);
  };
  auto trace_matches = [&](const stack_trace& trace) {
    return std::any_of(trace.begin(), trace.end(), frame_matches);
  };
  if (frame_matches(candidate.acquiring.acquired_at) ||
      frame_matches(candidate.holding.acquired_at) || trace_matches(candidate.backtrace)) {
    return true;
  }
  for (const lock_description& held : candidate.held_locks) {
    if (frame_matches(held.acquired_at)) return true;
  }
  for (const dependency_step& step : candidate.chain) {
    if (trace_matches(step.trace)) return true;
  }
  return false;
}

}  // namespace

bool matches_pattern(std::string_view pattern, std::string_view text) {
  // Iterative glob with one backtrack point: the last `*` seen. Linear in practice, and never
  // recursive, so a hostile pattern cannot exhaust the stack.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

suppressions suppressions::parse(std::string_view text, std::vector<suppression_error>* errors) {
  suppressions parsed;
  auto complain = [errors](std::size_t line, std::string message) {
    if (errors != nullptr) errors->push_back({line, std::move(message)});
  };
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trimmed(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;

    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      complain(line_number, fmt::format("'{}' is not 'order: A -> B' or 'function: F'", line));
      continue;
    }
    std::string_view type = trimmed(line.substr(0, colon));
    std::string_view pattern = trimmed(line.substr(colon + 1));
    if (type == "function") {
      if (pattern.empty()) {
        complain(line_number, "'function:' needs a function name");
        continue;
      }
      parsed.functions_.emplace_back(pattern);
    } else if (type == "order") {
      std::size_t arrow = pattern.find("->");
      std::string_view from =
          arrow == std::string_view::npos ? std::string_view{} : trimmed(pattern.substr(0, arrow));
      std::string_view to =
          arrow == std::string_view::npos ? std::string_view{} : trimmed(pattern.substr(arrow + 2));
      if (from.empty() || to.empty()) {
        complain(line_number, fmt::format("'order: {}' is not 'order: A -> B'", pattern));
        continue;
      }
      parsed.orders_.push_back({std::string(from), std::string(to)});
    } else {
      complain(line_number,
               fmt::format("unknown rule type '{}' (expected 'order' or 'function')", type));
    }
  }
  return parsed;
}

bool suppressions::applies_to(const report& candidate) {
  return candidate.kind != report_kind::capacity_exhausted &&
         candidate.kind != report_kind::lock_depth_overflow;
}

bool suppressions::suppresses_by_order(const report& candidate) const {
  if (orders_.empty() || !applies_to(candidate)) return false;
  // The report's dependencies as (from, to) class names.
  std::vector<std::pair<std::string, std::string>> edges;
  if (candidate.kind == report_kind::circular_dependency) {
    // The chain is printed from #D (the held class) to #0 (the acquired one), each step reached
    // by a dependency from the step after it; the refused one goes from #D back to #0.
    const std::vector<dependency_step>& chain = candidate.chain;
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      edges.emplace_back(chain[i + 1].class_name, chain[i].class_name);
    }
    if (!chain.empty()) edges.emplace_back(chain.front().class_name, chain.back().class_name);
  } else if (candidate.kind == report_kind::recursive_locking) {
    edges.emplace_back(candidate.holding.class_name, candidate.acquiring.class_name);
  }
  for (const auto& [from, to] : edges) {
    for (const order_rule& rule : orders_) {
      if (matches_pattern(rule.from, from) && matches_pattern(rule.to, to)) return true;
    }
  }
  return false;
}

bool suppressions::suppresses_by_function(const report& candidate) const {
  if (functions_.empty() || !applies_to(candidate)) return false;
  return any_function(candidate, [this](const std::string& function) {
    return std::any_of(functions_.begin(), functions_.end(), [&](const std::string& pattern) {
      return matches_pattern(pattern, function);
    });
  });
}

}  // namespace lockdep

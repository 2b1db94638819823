#include "function_names.hpp"

#include <cxxabi.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace lockdep::detail {

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

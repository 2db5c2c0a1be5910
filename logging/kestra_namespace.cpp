// is_kestra_namespace: see the header.
#include "logging/kestra_namespace.hpp"

namespace runner::logging {

bool is_kestra_namespace(std::string_view name) {
  if (name.empty() || name.size() > kMaxNamespaceLength) return false;
  bool word_start = true;
  for (const char c : name) {
    const bool lower_or_digit = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (word_start) {
      if (!lower_or_digit) return false;
      word_start = false;
    } else if (c == '.') {
      word_start = true;
    } else if (!lower_or_digit && c != '_' && c != '-') {
      return false;
    }
  }
  return !word_start;
}

}  // namespace runner::logging

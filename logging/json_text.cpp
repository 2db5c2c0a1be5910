// append_json_string: see the header. Runs of bytes that need no escaping are found eight at a
// time (SWAR: a word has a byte below 0x20, '"', '\\' or 0x7f iff one of the masks below fires)
// and copied in one append; log lines rarely contain anything to escape, so this is most of it.
#include "logging/json_text.hpp"

#include <cstdint>
#include <cstring>

namespace runner::logging {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

// Non-zero iff some byte of `w` is zero.
constexpr std::uint64_t has_zero_byte(std::uint64_t w) {
  return (w - kOnes) & ~w & kHighs;
}

bool word_needs_escape(std::uint64_t w) {
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;  // byte < 0x20 (ASCII)
  return (below_space | has_zero_byte(w ^ (kOnes * '"')) | has_zero_byte(w ^ (kOnes * '\\')) |
          has_zero_byte(w ^ (kOnes * 0x7f))) != 0;
}

bool byte_needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c == 0x7f;
}

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
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
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  const char* p = text.data();
  const std::size_t n = text.size();
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      // Bytes >= 0x80 (UTF-8) may make the below-space test fire falsely; then check bytewise.
      if (!word_needs_escape(w)) {
        i += 8;
        continue;
      }
    }
    const std::size_t end = i + 8 <= n ? i + 8 : n;
    for (; i < end; ++i) {
      const auto c = static_cast<unsigned char>(p[i]);
      if (!byte_needs_escape(c)) continue;
      out.append(p + run, i - run);
      append_escaped(out, c);
      run = i + 1;
    }
  }
  out.append(p + run, n - run);
  out += '"';
}

}  // namespace runner::logging

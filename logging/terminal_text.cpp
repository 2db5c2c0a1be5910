// Terminal text neutralising: see the header. One pass: runs of plain printable text are copied
// in bulk; every other byte is decoded (UTF-8) and either copied or replaced.
#include "logging/terminal_text.hpp"

#include "common/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace runner::logging {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool plain_ascii(unsigned char c) {
  return (c >= 0x20 && c < 0x7f) || c == '\t';
}

// Whether any of 8 bytes may need attention: a control byte (tab included, the byte loop lets
// it through), DEL, or a byte >= 0x80. The usual bit tricks (exact for "any", not for "which").
bool maybe_special(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  const std::uint64_t x = w ^ (ones * 0x7f);
  const std::uint64_t del = (x - ones) & ~x & highs;
  return ((w & highs) | below_space | del) != 0;
}

// The end of the run of plain bytes starting at `i`: 8 bytes at a time, then byte by byte.
std::size_t plain_run_end(std::string_view text, std::size_t i) {
  for (;;) {
    while (i + 8 <= text.size()) {
      std::uint64_t w;
      std::memcpy(&w, text.data() + i, 8);
      if (maybe_special(w)) break;
      i += 8;
    }
    const std::size_t stop = std::min(text.size(), i + 8);
    while (i < stop && plain_ascii(static_cast<unsigned char>(text[i]))) ++i;
    if (i < stop || i >= text.size()) return i;
  }
}

bool shown_as_escape(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

void append_code_point_escape(std::string& out, std::uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
}

}  // namespace

void append_carriage_return(std::string& out) {
  append_utf8(out, 0x240D);  // ␍
}

void append_terminal_text(std::string& out, std::string_view text,
                          std::optional<std::string_view> line_break) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t run = plain_run_end(text, i);
    out.append(text.data() + i, run - i);
    i = run;
    if (i >= text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' && line_break) {
      out.append(*line_break);
      ++i;
    } else if (c == '\r') {
      append_carriage_return(out);
      ++i;
    } else if (c < 0x20) {
      append_utf8(out, 0x2400 + c);  // ␀ ... ␟, ESC as ␛
      ++i;
    } else if (c == 0x7f) {
      append_utf8(out, 0x2421);  // ␡
      ++i;
    } else {
      std::uint32_t cp = 0;
      const std::size_t length = decode_utf8(text, i, cp);
      if (length == 0) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
        ++i;
      } else {
        if (shown_as_escape(cp))
          append_code_point_escape(out, cp);
        else
          out.append(text.data() + i, length);
        i += length;
      }
    }
  }
}

std::string terminal_text(std::string_view text, std::optional<std::string_view> line_break) {
  std::string out;
  append_terminal_text(out, text, line_break);
  return out;
}

}  // namespace runner::logging

// The one UTF-8 codec (RFC 3629): validation with an ASCII fast path, decoding, replacement of
// invalid sequences with U+FFFD, and safe cut points so a character is never split between
// events. In the leaf library, so the scrubber, the GELF code, the Kestra parser and the
// terminal all read UTF-8 by the same rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace runner {

bool is_valid_utf8(std::string_view text);
// Length (1-4) of the valid sequence at text[i], or 0 when it is invalid or truncated there.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);
// Like utf8_sequence_length, also giving the code point of a valid sequence.
std::size_t decode_utf8(std::string_view text, std::size_t i, std::uint32_t& code_point);
// Appends `text` with every invalid or truncated sequence replaced by U+FFFD.
void append_sanitized_utf8(std::string& out, std::string_view text);
// Number of bytes (0-3) at the end of `text` that start a multi-byte character not yet complete.
std::size_t incomplete_utf8_tail(std::string_view text);
// The largest n <= max_bytes such that text[0, n) does not end inside a character (n > 0 when
// max_bytes > 0, even for garbage input).
std::size_t utf8_cut_point(std::string_view text, std::size_t max_bytes);
// Appends the UTF-8 encoding of a code point (<= U+10FFFF, not a surrogate: callers check).
inline void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}
// Length in code points (invalid bytes count one each).
std::size_t utf8_length(std::string_view text);
// Byte offset of the code point with index `index` (or text.size()).
std::size_t utf8_offset(std::string_view text, std::size_t index);

}  // namespace runner

// Base64, JSON-string escaping and percent-encoding, written out by hand so the exact bytes each
// common encoder produces can be reproduced (see encoding.hpp for why not OpenSSL's codec).
#include "secrets/encoding.hpp"

#include <array>
#include <cstdint>

namespace runner::secrets {
namespace {

constexpr std::string_view kStandardChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlSafeChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string_view chars_of(Base64Alphabet alphabet) {
  return alphabet == Base64Alphabet::Standard ? kStandardChars : kUrlSafeChars;
}

// Decodes one UTF-8 sequence at `i`; returns the code point and advances `i`, or -1 if invalid
// (overlong forms, surrogates and values above U+10FFFF are invalid).
long next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  long cp = 0;
  long min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > s.size()) return -1;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += len;
  return cp;
}

void append_u_escape(std::string& out, unsigned value, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += digits[(value >> shift) & 0xF];
}

}  // namespace

std::string base64_encode(std::string_view data, Base64Alphabet alphabet, bool pad) {
  const std::string_view chars = chars_of(alphabet);
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data[k]));
  };
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += chars[(v >> 18) & 63];
    out += chars[(v >> 12) & 63];
    out += chars[(v >> 6) & 63];
    out += chars[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = at(i) << 16;
    out += chars[(v >> 18) & 63];
    out += chars[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out += chars[(v >> 18) & 63];
    out += chars[(v >> 12) & 63];
    out += chars[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64Alphabet alphabet,
                                         bool require_padding) {
  std::array<int, 256> value{};
  value.fill(-1);
  const std::string_view chars = chars_of(alphabet);
  for (std::size_t k = 0; k < chars.size(); ++k)
    value[static_cast<unsigned char>(chars[k])] = static_cast<int>(k);

  std::size_t body = text.size();
  if (text.size() % 4 == 0) {
    if (body > 0 && text[body - 1] == '=') --body;
    if (body > 0 && text[body - 1] == '=') --body;
  } else if (require_padding) {
    return std::nullopt;
  }
  if (body % 4 == 1) return std::nullopt;  // one leftover character cannot encode a byte
  std::string out;
  out.reserve(body / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t k = 0; k < body; ++k) {
    const int v = value[static_cast<unsigned char>(text[k])];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Canonical form only: the bits left over after the last byte must be zero.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::optional<std::string> json_escape(std::string_view data, const JsonEscapeStyle& style) {
  std::string out;
  out.reserve(data.size() + 8);
  std::size_t i = 0;
  while (i < data.size()) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    if (c >= 0x80) {
      if (!style.ascii_only) {
        out += static_cast<char>(c);
        ++i;
        continue;
      }
      const long cp = next_code_point(data, i);
      if (cp < 0) return std::nullopt;
      if (cp >= 0x10000) {
        const long v = cp - 0x10000;
        append_u_escape(out, static_cast<unsigned>(0xD800 + (v >> 10)), style.upper_hex);
        append_u_escape(out, static_cast<unsigned>(0xDC00 + (v & 0x3FF)), style.upper_hex);
      } else {
        append_u_escape(out, static_cast<unsigned>(cp), style.upper_hex);
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
      case '/':
        out += style.escape_slash ? "\\/" : "/";
        break;
      case '<':
      case '>':
      case '&':
        if (style.escape_html) {
          append_u_escape(out, c, style.upper_hex);
        } else {
          out += static_cast<char>(c);
        }
        break;
      default:
        if (c < 0x20) {
          append_u_escape(out, c, style.upper_hex);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string url_encode(std::string_view data, std::string_view safe, bool upper_hex,
                       bool space_as_plus) {
  const char* digits = upper_hex ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 3);
  for (const char ch : data) {
    const unsigned char c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' ||
                       (c != 0 && safe.find(ch) != std::string_view::npos);
    if (plain) {
      out += ch;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xF];
    }
  }
  return out;
}

}  // namespace runner::secrets

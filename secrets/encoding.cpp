// Base64 and percent-encoding: the plain encode/decode steps are OpenSSL's (EVP_EncodeBlock,
// EVP_DecodeBlock) and libcurl's (curl_easy_escape); what is runner's own is the forms around
// them that other encoders produce (the URL-safe alphabet, no padding, lower-case hex, '+' for a
// space, characters left unescaped) and the strictness of the decoder (see encoding.hpp). JSON
// string escaping is written out here: no linked library reproduces the dialects of other
// languages' encoders byte for byte.
#include "secrets/encoding.hpp"

#include "common/utf8.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <new>

namespace runner::secrets {
namespace {

// The alphabets differ in their last two characters only.
constexpr std::string_view kStandardLast = "+/";
constexpr std::string_view kUrlSafeLast = "-_";

void translate(std::string& text, std::string_view from, std::string_view to) {
  for (char& c : text) {
    if (c == from[0]) {
      c = to[0];
    } else if (c == from[1]) {
      c = to[1];
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one UTF-8 sequence at `i`; returns the code point and advances `i`, or -1 if invalid
// (overlong forms, surrogates and values above U+10FFFF are invalid).
long next_code_point(std::string_view s, std::size_t& i) {
  std::uint32_t cp = 0;
  const std::size_t len = decode_utf8(s, i, cp);  // the one codec (common/utf8)
  if (len == 0) return -1;
  i += len;
  return static_cast<long>(cp);
}

void append_u_escape(std::string& out, unsigned value, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += digits[(value >> shift) & 0xF];
}

}  // namespace

std::string base64_encode(std::string_view data, Base64Alphabet alphabet, bool pad) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(data.data()),
                                      static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(written));
  if (alphabet == Base64Alphabet::UrlSafe) translate(out, kStandardLast, kUrlSafeLast);
  if (!pad) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64Alphabet alphabet,
                                         bool require_padding) {
  // The other alphabet's characters are not this one's (OpenSSL knows only the standard one).
  const std::string_view foreign =
      alphabet == Base64Alphabet::Standard ? kUrlSafeLast : kStandardLast;
  if (text.find_first_of(foreign) != std::string_view::npos) return std::nullopt;
  std::string standard(text);
  if (alphabet == Base64Alphabet::UrlSafe) translate(standard, kUrlSafeLast, kStandardLast);
  if (standard.size() % 4 != 0) {
    if (require_padding || standard.find('=') != std::string::npos) return std::nullopt;
    standard.append(4 - standard.size() % 4, '=');
  }
  std::string out(standard.size() / 4 * 3, '\0');
  const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(standard.data()),
                                      static_cast<int>(standard.size()));
  if (decoded < 0) return std::nullopt;
  std::size_t size = static_cast<std::size_t>(decoded);
  for (std::size_t i = standard.size(); i > 0 && standard[i - 1] == '=' && size > 0; --i) --size;
  out.resize(size);
  // OpenSSL is lenient (spaces, '=' inside, bits after the last byte); the canonical text is the
  // one encoding of what it decoded.
  if (base64_encode(out, Base64Alphabet::Standard, true) != standard) return std::nullopt;
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
  // libcurl escapes every byte but ALPHA DIGIT - . _ ~ as %XX (upper case); then the style.
  if (data.empty()) return {};  // curl_easy_escape would take length 0 as "use strlen"
  const auto free_curl = [](char* p) { curl_free(p); };
  const std::unique_ptr<char, decltype(free_curl)> escaped(
      curl_easy_escape(nullptr, data.data(), static_cast<int>(data.size())), free_curl);
  if (!escaped) throw std::bad_alloc();
  const std::string_view curl(escaped.get());
  const char* digits = upper_hex ? "0123456789ABCDEF" : "0123456789abcdef";
  const auto is_safe = [safe](char c) { return c != 0 && safe.find(c) != std::string_view::npos; };
  std::string out;
  out.reserve(curl.size());
  for (std::size_t i = 0; i < curl.size(); ++i) {
    char c = curl[i];
    if (c == '%' && i + 2 < curl.size()) {
      c = static_cast<char>(hex_value(curl[i + 1]) * 16 + hex_value(curl[i + 2]));
      i += 2;
    } else if (c != '~' || is_safe(c)) {
      out += c;  // unreserved, and kept so
      continue;
    }
    if (is_safe(c)) {
      out += c;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += digits[byte >> 4];
      out += digits[byte & 0xF];
    }
  }
  return out;
}

}  // namespace runner::secrets

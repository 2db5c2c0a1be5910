// Text encodings shared by the scrubber (to derive the forms a secret can take in output), the
// config cipher (to print keys and ciphertexts) and the Docker engine client (X-Registry-Auth,
// query parameters): base64 in both alphabets, JSON string escaping in the dialects common
// encoders produce, and percent-encoding. Base64 is OpenSSL's and percent-encoding libcurl's;
// on top of them the URL-safe alphabet, unpadded output, the encoders' styles and a strict
// decoder that rejects anything that is not canonical base64.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace runner::secrets {

enum class Base64Alphabet { Standard, UrlSafe };

// Encodes `data`; `pad` appends '=' up to a multiple of four characters.
std::string base64_encode(std::string_view data, Base64Alphabet alphabet = Base64Alphabet::Standard,
                          bool pad = true);

// Strict decoder: accepts only the given alphabet, padding (optional when `require_padding` is
// false) only at the end, and no whitespace. Returns nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text,
                                         Base64Alphabet alphabet = Base64Alphabet::Standard,
                                         bool require_padding = true);

// How a JSON encoder writes a string's content (without the surrounding quotes).
struct JsonEscapeStyle {
  bool escape_slash = false;  // '/' as "\/" (PHP json_encode)
  bool ascii_only = false;    // non-ASCII as \uXXXX, UTF-16 surrogates (Python, PHP defaults)
  bool escape_html = false;   // '<' '>' '&' as \u003c... (Go encoding/json)
  bool upper_hex = false;     // \u001B instead of \u001b (Jackson)
};

// Returns nullopt when the style cannot represent `data` (ascii_only with invalid UTF-8).
// The default style is byte-for-byte what nlohmann::json::dump() writes between the quotes.
std::optional<std::string> json_escape(std::string_view data, const JsonEscapeStyle& style = {});

// Percent-encoding of every byte except ALPHA DIGIT - . _ and the characters in `safe`, with upper-
// or lower-case hex digits, and space as '+' when `space_as_plus` (form encoding). The default
// `safe` = "~" is RFC 3986 (Python quote(safe=''), PHP rawurlencode, Go url.PathEscape-like).
std::string url_encode(std::string_view data, std::string_view safe = "~", bool upper_hex = true,
                       bool space_as_plus = false);

}  // namespace runner::secrets

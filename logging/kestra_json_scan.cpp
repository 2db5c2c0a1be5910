// KestraJsonScanner: see the header. Grammar per RFC 8259; escapes decoded as nlohmann does
// (surrogate pairs combined, lone surrogates rejected).
#include "logging/kestra_json_scan.hpp"
#include "logging/json_chars.hpp"
#include "logging/utf8.hpp"

#include <charconv>
#include <cstdint>

namespace runner::logging {

char KestraJsonScanner::peek() {
  while (pos_ < text_.size() && is_json_space(text_[pos_])) ++pos_;
  return pos_ < text_.size() ? text_[pos_] : '\0';
}

bool KestraJsonScanner::consume(char c) {
  if (peek() != c || pos_ >= text_.size()) return false;
  ++pos_;
  return true;
}

// Moves past a string (pos_ at its opening quote), checking escapes and control characters.
bool KestraJsonScanner::skip_string() {
  ++pos_;
  while (pos_ < text_.size()) {
    const char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      ++pos_;
      continue;
    }
    if (pos_ + 1 >= text_.size()) return false;
    const char escaped = text_[pos_ + 1];
    if (escaped == 'u') {
      if (pos_ + 6 > text_.size()) return false;
      for (std::size_t k = 2; k < 6; ++k) {
        if (json_hex_value(text_[pos_ + k]) < 0) return false;
      }
      pos_ += 6;
    } else if (escaped == '"' || escaped == '\\' || escaped == '/' || escaped == 'b' ||
               escaped == 'f' || escaped == 'n' || escaped == 'r' || escaped == 't') {
      pos_ += 2;
    } else {
      return false;
    }
  }
  return false;
}

bool KestraJsonScanner::read_string(std::string_view& out) {
  if (peek() != '"') return false;
  const std::size_t start = pos_ + 1;
  if (!skip_string()) return false;
  const std::string_view raw = text_.substr(start, pos_ - 1 - start);
  if (raw.find('\\') == std::string_view::npos) {
    out = raw;
    return true;
  }
  if (slots_used_ >= decode_slots_.size()) return false;
  std::string& decoded = decode_slots_[slots_used_++];
  decoded.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      decoded += raw[i];
      continue;
    }
    const char escaped = raw[++i];
    switch (escaped) {
      case 'b':
        decoded += '\b';
        break;
      case 'f':
        decoded += '\f';
        break;
      case 'n':
        decoded += '\n';
        break;
      case 'r':
        decoded += '\r';
        break;
      case 't':
        decoded += '\t';
        break;
      case 'u': {
        auto hex4 = [&raw](std::size_t at) {
          std::uint32_t value = 0;
          for (std::size_t k = 0; k < 4; ++k) value = value * 16 + json_hex_value(raw[at + k]);
          return value;
        };
        std::uint32_t code_point = hex4(i + 1);
        i += 4;
        if (code_point >= 0xDC00 && code_point <= 0xDFFF) return false;  // lone low surrogate
        if (code_point >= 0xD800 && code_point <= 0xDBFF) {
          if (i + 6 >= raw.size() || raw[i + 1] != '\\' || raw[i + 2] != 'u') return false;
          const std::uint32_t low = hex4(i + 3);
          if (low < 0xDC00 || low > 0xDFFF) return false;
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        append_utf8(decoded, code_point);
        break;
      }
      default:
        decoded += escaped;
        break;  // '"', '\\', '/'
    }
  }
  out = decoded;
  return true;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool KestraJsonScanner::number_span(std::string_view& out) {
  peek();
  const std::size_t start = pos_;
  std::size_t i = pos_;
  const std::size_t n = text_.size();
  if (i < n && text_[i] == '-') ++i;
  if (i >= n || !is_json_digit(text_[i])) return false;
  if (text_[i] == '0') {
    ++i;
  } else {
    while (i < n && is_json_digit(text_[i])) ++i;
  }
  if (i < n && text_[i] == '.') {
    ++i;
    if (i >= n || !is_json_digit(text_[i])) return false;
    while (i < n && is_json_digit(text_[i])) ++i;
  }
  if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
    ++i;
    if (i < n && (text_[i] == '+' || text_[i] == '-')) ++i;
    if (i >= n || !is_json_digit(text_[i])) return false;
    while (i < n && is_json_digit(text_[i])) ++i;
  }
  pos_ = i;
  out = text_.substr(start, i - start);
  return true;
}

bool KestraJsonScanner::read_number(double& out) {
  std::string_view span;
  if (!number_span(span)) return false;
  const auto [end, ec] = std::from_chars(span.data(), span.data() + span.size(), out);
  return ec == std::errc() && end == span.data() + span.size();
}

bool KestraJsonScanner::read_literal(std::string_view word) {
  peek();
  if (text_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  return true;
}

bool KestraJsonScanner::skip_value(int depth) {
  if (depth > kMaxDepth) return false;
  switch (peek()) {
    case '"':
      return skip_string();
    case 't':
      return read_literal("true");
    case 'f':
      return read_literal("false");
    case 'n':
      return read_literal("null");
    case '[':
      ++pos_;
      if (consume(']')) return true;
      do {
        if (!skip_value(depth + 1)) return false;
      } while (consume(','));
      return consume(']');
    case '{':
      ++pos_;
      if (consume('}')) return true;
      do {
        if (peek() != '"' || !skip_string() || !consume(':') || !skip_value(depth + 1)) {
          return false;
        }
      } while (consume(','));
      return consume('}');
    default: {
      std::string_view span;
      return number_span(span);
    }
  }
}

bool KestraJsonScanner::read_value(nlohmann::json& out, int depth) {
  if (depth > kMaxDepth) return false;
  switch (peek()) {
    case '"': {
      std::string_view text;
      if (!read_string(text)) return false;
      out = std::string(text);
      return true;
    }
    case 't':
      out = true;
      return read_literal("true");
    case 'f':
      out = false;
      return read_literal("false");
    case 'n':
      out = nullptr;
      return read_literal("null");
    case '[':
      ++pos_;
      out = nlohmann::json::array();
      if (consume(']')) return true;
      do {
        out.push_back(nullptr);
        if (!read_value(out.back(), depth + 1)) return false;
      } while (consume(','));
      return consume(']');
    case '{':
      ++pos_;
      out = nlohmann::json::object();
      if (consume('}')) return true;
      do {
        std::string_view key;
        if (!read_string(key) || !consume(':')) return false;
        // Duplicate keys: the last one wins, as in nlohmann's parser.
        if (!read_value(out[std::string(key)], depth + 1)) return false;
      } while (consume(','));
      return consume('}');
    default: {
      std::string_view span;
      if (!number_span(span)) return false;
      const char* first = span.data();
      const char* last = span.data() + span.size();
      if (span.find_first_of(".eE") == std::string_view::npos) {
        // An integer: nlohmann keeps it exact when it fits 64 bits, else reads it as a double.
        if (span.front() == '-') {
          std::int64_t value = 0;
          const auto [end, ec] = std::from_chars(first, last, value);
          if (ec == std::errc() && end == last) {
            out = value;
            return true;
          }
        } else {
          std::uint64_t value = 0;
          const auto [end, ec] = std::from_chars(first, last, value);
          if (ec == std::errc() && end == last) {
            out = value;
            return true;
          }
        }
      }
      double value = 0;
      const auto [end, ec] = std::from_chars(first, last, value);
      if (ec != std::errc() || end != last) return false;
      out = value;
      return true;
    }
  }
}

}  // namespace runner::logging

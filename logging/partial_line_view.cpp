// PartialLineView: see the header.
#include "logging/partial_line_view.hpp"

#include "common/utf8.hpp"

#include <array>
#include <cstdint>
#include <utility>

namespace runner::logging {
namespace {

constexpr std::string_view kErase = "\r\x1b[K";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The code point starting at text[i] (valid UTF-8: the view sees sanitized text).
std::uint32_t code_point_at(std::string_view text, std::size_t i) {
  std::uint32_t cp = static_cast<unsigned char>(text[i]);
  decode_utf8(text, i, cp);  // leaves cp alone when the sequence is not valid
  return cp;
}

std::size_t columns_of(std::uint32_t cp) {
  if (cp == '\t') return 8;
  // Wide ranges (East Asian Wide and Fullwidth, emoji), coarse on purpose: over-counting only
  // makes a cut row shorter.
  static constexpr std::array<std::pair<std::uint32_t, std::uint32_t>, 10> kWide = {{
      {0x1100, 0x115F},
      {0x2E80, 0xA4CF},
      {0xAC00, 0xD7A3},
      {0xF900, 0xFAFF},
      {0xFE30, 0xFE4F},
      {0xFF00, 0xFF60},
      {0xFFE0, 0xFFE6},
      {0x1F300, 0x1F64F},
      {0x1F900, 0x1F9FF},
      {0x20000, 0x3FFFD},
  }};
  for (const auto& [first, last] : kWide)
    if (cp >= first && cp <= last) return 2;
  return 1;
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!is_continuation(text[i])) width += columns_of(code_point_at(text, i));
  return width;
}

void PartialLineView::set(std::string_view prefix, std::size_t prefix_width,
                          std::string_view text) {
  prefix_.assign(prefix);
  prefix_width_ = prefix_width;
  text_.assign(text);
  changed_ = true;
}

void PartialLineView::erase(std::string& out) {
  if (!drawn_) return;
  out += kErase;
  drawn_ = false;
}

void PartialLineView::draw(std::string& out, std::size_t columns) {
  if (drawn_ && !changed_) return;
  erase(out);
  changed_ = false;
  if (text_.empty()) return;
  // One column is left free: a row that fills the last column makes some terminals wrap early.
  if (columns < prefix_width_ + 3) return;
  const std::size_t budget = columns - prefix_width_ - 1;
  std::string_view text = text_;
  if (display_width(text) > budget) {
    // Keep the end: walk back over whole characters while they fit after the ellipsis.
    std::size_t width = 1;
    std::size_t start = text.size();
    for (std::size_t i = text.size(); i > 0; --i) {
      if (is_continuation(text[i - 1])) continue;
      const std::size_t w = columns_of(code_point_at(text, i - 1));
      if (width + w > budget) break;
      width += w;
      start = i - 1;
    }
    out += prefix_;
    out += kEllipsis;
    out += text.substr(start);
  } else {
    out += prefix_;
    out += text;
  }
  drawn_ = true;
}

}  // namespace runner::logging

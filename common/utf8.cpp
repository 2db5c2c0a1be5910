// UTF-8 helpers: see the header. Decoding follows RFC 3629 (no overlongs, no surrogates, max
// U+10FFFF), the same rules a JSON consumer downstream will apply.
#include "common/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace runner {
namespace {

// Length of the valid sequence starting at text[i], or 0 if invalid or truncated.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  const unsigned char c = s[i];
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  if (s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
  return len;
}

bool all_ascii(const char* p, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if ((w & 0x8080808080808080ULL) != 0) return false;
  }
  for (; i < n; ++i)
    if (static_cast<unsigned char>(p[i]) >= 0x80) return false;
  return true;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  return sequence_length(text, i);
}

std::size_t decode_utf8(std::string_view text, std::size_t i, std::uint32_t& code_point) {
  const std::size_t len = sequence_length(text, i);
  if (len == 0) return 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  code_point = byte(0) & kLeadMask[len];
  for (std::size_t k = 1; k < len; ++k) code_point = (code_point << 6) | (byte(k) & 0x3F);
  return len;
}

bool is_valid_utf8(std::string_view text) {
  if (all_ascii(text.data(), text.size())) return true;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = sequence_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void append_sanitized_utf8(std::string& out, std::string_view text) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = sequence_length(text, i);
    if (len != 0) {
      i += len;
      continue;
    }
    out.append(text.data() + run, i - run);
    out += "\xEF\xBF\xBD";
    ++i;
    // Skip the continuation bytes of this broken sequence so one fault gives one replacement.
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80 &&
           sequence_length(text, i) == 0)
      ++i;
    run = i;
  }
  out.append(text.data() + run, text.size() - run);
}

std::size_t incomplete_utf8_tail(std::string_view text) {
  const std::size_t n = text.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    std::size_t need = 0;
    if (c >= 0xC2 && c <= 0xDF)
      need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
      need = 3;
    else if (c >= 0xF0 && c <= 0xF4)
      need = 4;
    return need > back ? back : 0;
  }
  return 0;
}

std::size_t utf8_cut_point(std::string_view text, std::size_t max_bytes) {
  if (max_bytes >= text.size()) return text.size();
  std::size_t cut = max_bytes;
  for (std::size_t back = 0; back < 4 && cut > 0; ++back, --cut)
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80) return cut;
  return max_bytes;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    const std::size_t len = sequence_length(text, i);
    i += len == 0 ? 1 : len;
  }
  return count;
}

std::size_t utf8_offset(std::string_view text, std::size_t index) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < index && i < text.size(); ++k) {
    const std::size_t len = sequence_length(text, i);
    i += len == 0 ? 1 : len;
  }
  return i;
}

}  // namespace runner

// HeadTailBuffer: see the header. The tail is a string trimmed in amortised O(1) per byte.
#include "logging/head_tail_buffer.hpp"

#include "common/utf8.hpp"

#include <algorithm>

namespace runner::logging {

void HeadTailBuffer::append(std::string_view bytes) {
  total_ += bytes.size();
  if (head_.size() < head_limit_) {
    const std::size_t take = std::min(head_limit_ - head_.size(), bytes.size());
    head_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  if (bytes.empty() || tail_limit_ == 0) return;
  if (bytes.size() >= tail_limit_) {
    tail_.assign(bytes.substr(bytes.size() - tail_limit_));
    return;
  }
  tail_.append(bytes);
  if (tail_.size() > 2 * tail_limit_) tail_.erase(0, tail_.size() - tail_limit_);
}

std::uint64_t HeadTailBuffer::omitted_bytes() const {
  const std::uint64_t kept = head_.size() + std::min(tail_.size(), tail_limit_);
  return total_ > kept ? total_ - kept : 0;
}

std::string HeadTailBuffer::text() const {
  std::string out;
  std::string_view tail(tail_);
  if (tail.size() > tail_limit_) tail.remove_prefix(tail.size() - tail_limit_);
  const std::uint64_t omitted = omitted_bytes();
  if (omitted == 0) {
    std::string whole = head_;
    whole.append(tail);
    append_sanitized_utf8(out, whole);
    return out;
  }
  std::string_view head(head_);
  head.remove_suffix(incomplete_utf8_tail(head));
  // Skip continuation bytes at the start of the tail: the character began in the omitted part.
  std::size_t skip = 0;
  while (skip < tail.size() && skip < 3 && (static_cast<unsigned char>(tail[skip]) & 0xC0) == 0x80)
    ++skip;
  tail.remove_prefix(skip);
  append_sanitized_utf8(out, head);
  out += "\n[... " + std::to_string(omitted) + " bytes omitted ...]\n";
  append_sanitized_utf8(out, tail);
  return out;
}

}  // namespace runner::logging

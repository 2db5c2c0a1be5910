// MaskedLineStream: see the header.
#include "secrets/masked_lines.hpp"

#include <cstring>

namespace runner::secrets {

MaskedLineStream::MaskedLineStream(std::shared_ptr<const SecretMatcher> matcher, LineFn on_line)
    : scrubber_(std::move(matcher)), on_line_(std::move(on_line)) {}

void MaskedLineStream::line(std::string_view text, bool crlf) {
  batch_.append(text);
  batch_.append(crlf ? "\r\n" : "\n");
}

void MaskedLineStream::piece(std::string_view text) {
  batch_.append(text);
  mask_batch();
  hand_on_lines();
  if (!pending_.empty()) on_line_(MaskedText(pending_), true);
  pending_.clear();
  after_piece_ = true;
}

void MaskedLineStream::close_line() {
  batch_.push_back('\n');
}

void MaskedLineStream::drain() {
  if (batch_.empty()) return;
  mask_batch();
  hand_on_lines();
}

void MaskedLineStream::finish() {
  mask_batch();
  out_.clear();
  scrubber_.flush(out_);
  pending_.append(out_);
  hand_on_lines();
  if (!pending_.empty() || after_piece_) on_line_(MaskedText(pending_), false);
  pending_.clear();
  after_piece_ = false;
}

void MaskedLineStream::mask_batch() {
  out_.clear();
  scrubber_.write(batch_, out_);
  batch_.clear();
  if (pending_.empty()) {
    pending_.swap(out_);
  } else {
    pending_.append(out_);
  }
}

// Hands on every complete line of pending_ (up to its break, a "\r" before it removed).
void MaskedLineStream::hand_on_lines() {
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = pending_.find('\n', start);  // memchr underneath
    if (end == std::string::npos) break;
    std::string_view line(pending_.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // A lone break after a piece closes the line already handed on: an empty last part.
    on_line_(MaskedText(line), false);
    after_piece_ = false;
    start = end + 1;
  }
  pending_.erase(0, start);
}

}  // namespace runner::secrets

// GelfTcpFramer: see the header.
#include "logging/gelf/tcp_framer.hpp"

#include <utility>

namespace runner::logging::gelf {

namespace {

bool is_delimiter(char c) {
  return c == '\0' || c == '\n';
}

bool is_blank(std::string_view frame) {
  for (const char c : frame) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

}  // namespace

GelfTcpFramer::GelfTcpFramer(FrameFn on_frame, std::size_t max_frame)
    : on_frame_(std::move(on_frame)), max_frame_(max_frame == 0 ? 1 : max_frame) {}

void GelfTcpFramer::emit(std::string_view frame) {
  if (is_blank(frame)) return;
  ++frames_;
  on_frame_(frame);
}

// A delimiter was found; `tail` is the part of the frame in the current read.
void GelfTcpFramer::end_frame(std::string_view tail) {
  if (discarding_) {
    discarding_ = false;
    return;
  }
  if (pending_.empty()) {
    if (tail.size() > max_frame_) {
      ++oversized_;
      return;
    }
    emit(tail);
    return;
  }
  if (pending_.size() + tail.size() > max_frame_) {
    ++oversized_;
  } else {
    pending_.append(tail);
    emit(pending_);
  }
  pending_.clear();
}

void GelfTcpFramer::feed(std::string_view bytes) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (!is_delimiter(bytes[i])) continue;
    end_frame(bytes.substr(start, i - start));
    start = i + 1;
  }
  const std::string_view rest = bytes.substr(start);
  if (discarding_ || rest.empty()) return;
  if (pending_.size() + rest.size() > max_frame_) {
    ++oversized_;
    pending_.clear();
    pending_.shrink_to_fit();
    discarding_ = true;
    return;
  }
  pending_.append(rest);
}

void GelfTcpFramer::finish() {
  discarding_ = false;
  if (pending_.empty()) return;
  std::string last = std::move(pending_);
  pending_.clear();
  emit(last);
}

}  // namespace runner::logging::gelf

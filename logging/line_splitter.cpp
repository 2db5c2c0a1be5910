// LineSplitter: see the header.
#include "logging/line_splitter.hpp"

#include "logging/utf8.hpp"

#include <cstring>

namespace runner::logging {

LineSplitter::LineSplitter(LineFn on_line, std::size_t max_line,
                           std::chrono::milliseconds idle_flush)
    : on_line_(std::move(on_line)),
      max_line_(max_line < 4 ? 4 : max_line),
      idle_flush_(idle_flush) {}

void LineSplitter::emit(std::string_view line) {
  ++lines_;
  if (is_valid_utf8(line)) {
    on_line_(line);
    return;
  }
  scratch_.clear();
  append_sanitized_utf8(scratch_, line);
  on_line_(scratch_);
}

// A whole line (terminator removed), possibly longer than max_line_.
void LineSplitter::emit_complete(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() && continuing_) {
    continuing_ = false;  // the newline only closes a line already emitted in parts
    return;
  }
  continuing_ = false;
  while (line.size() > max_line_) {
    const std::size_t cut = utf8_cut_point(line, max_line_);
    emit(line.substr(0, cut));
    line.remove_prefix(cut);
  }
  emit(line);
}

// Emits pending_ except its last `keep_tail` bytes, in max_line_ pieces.
void LineSplitter::emit_partial(std::size_t keep_tail) {
  std::string_view text(pending_);
  text.remove_suffix(keep_tail);
  if (text.empty()) return;
  while (!text.empty()) {
    const std::size_t cut = utf8_cut_point(text, max_line_);
    emit(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  pending_.erase(0, pending_.size() - keep_tail);
  continuing_ = true;
}

void LineSplitter::feed(std::string_view bytes, Clock::time_point now) {
  while (!bytes.empty()) {
    const void* hit = std::memchr(bytes.data(), '\n', bytes.size());
    if (hit == nullptr) {
      if (pending_.empty()) pending_since_ = now;
      pending_.append(bytes);
      // A line longer than max_line_: emit full pieces now, keep the rest pending.
      while (pending_.size() > max_line_) {
        const std::size_t cut = utf8_cut_point(pending_, max_line_);
        emit(std::string_view(pending_).substr(0, cut));
        pending_.erase(0, cut);
        continuing_ = true;
        pending_since_ = now;
      }
      return;
    }
    const std::size_t pos = static_cast<const char*>(hit) - bytes.data();
    if (pending_.empty()) {
      emit_complete(bytes.substr(0, pos));
    } else {
      pending_.append(bytes.data(), pos);
      emit_complete(pending_);
      pending_.clear();
    }
    bytes.remove_prefix(pos + 1);
  }
}

void LineSplitter::flush_if_due(Clock::time_point now) {
  if (pending_.empty() || now - pending_since_ < idle_flush_) return;
  if (partial_filter_ && !partial_filter_(pending_)) {
    pending_since_ = now;  // asked again after another idle period
    return;
  }
  std::size_t keep = incomplete_utf8_tail(pending_);
  if (keep == 0 && pending_.back() == '\r') keep = 1;
  emit_partial(keep);
  pending_since_ = now;
}

std::optional<LineSplitter::Clock::time_point> LineSplitter::next_flush() const {
  if (pending_.empty()) return std::nullopt;
  return pending_since_ + idle_flush_;
}

void LineSplitter::finish() {
  if (pending_.empty()) return;
  std::string last = std::move(pending_);
  pending_.clear();
  emit_complete(last);
  continuing_ = false;
}

}  // namespace runner::logging

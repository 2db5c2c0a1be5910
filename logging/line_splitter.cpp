// LineSplitter: see the header.
#include "logging/line_splitter.hpp"

#include "common/utf8.hpp"

#include <algorithm>
#include <cstring>

namespace runner::logging {

LineSplitter::LineSplitter(LineFn on_line, std::size_t max_line)
    : on_line_(std::move(on_line)), max_line_(max_line < 4 ? 4 : max_line) {}

void LineSplitter::emit(std::string_view line, LineEnd end) {
  ++lines_;
  line_end_ = end;
  if (is_valid_utf8(line)) {
    on_line_(line);
    return;
  }
  scratch_.clear();
  append_sanitized_utf8(scratch_, line);
  on_line_(scratch_);
}

// A whole line (terminator removed, except a '\r' for `end` newline), possibly longer than
// max_line_.
void LineSplitter::emit_complete(std::string_view line, LineEnd end) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
    if (end == LineEnd::newline) end = LineEnd::crlf;
  }
  if (line.empty() && continuing_) {
    continuing_ = false;  // the newline only closes a line already emitted in parts
    if (on_close_) on_close_();
    return;
  }
  continuing_ = false;
  while (line.size() > max_line_) {
    const std::size_t cut = utf8_cut_point(line, max_line_);
    emit(line.substr(0, cut), LineEnd::piece);
    line.remove_prefix(cut);
  }
  emit(line, end);
}

void LineSplitter::feed(std::string_view bytes, Clock::time_point now) {
  while (!bytes.empty()) {
    const void* hit = std::memchr(bytes.data(), '\n', bytes.size());
    if (hit == nullptr) {
      if (pending_.size() == seen_) unseen_since_ = now;
      pending_.append(bytes);
      quiet_since_ = now;
      // A line longer than max_line_: emit full pieces now, keep the rest pending.
      while (pending_.size() > max_line_) {
        const std::size_t cut = utf8_cut_point(pending_, max_line_);
        clear_shown();
        emit(std::string_view(pending_).substr(0, cut), LineEnd::piece);
        pending_.erase(0, cut);
        continuing_ = true;
        unseen_since_ = now;
      }
      return;
    }
    const std::size_t pos = static_cast<const char*>(hit) - bytes.data();
    if (pending_.empty()) {
      emit_complete(bytes.substr(0, pos), LineEnd::newline);
    } else {
      clear_shown();
      pending_.append(bytes.data(), pos);
      emit_complete(pending_, LineEnd::newline);
      pending_.clear();
    }
    bytes.remove_prefix(pos + 1);
  }
}

std::size_t LineSplitter::unfinished_tail() const {
  const std::size_t keep = incomplete_utf8_tail(pending_);
  return keep == 0 && pending_.back() == '\r' ? 1 : keep;
}

void LineSplitter::flush_if_due(Clock::time_point now) {
  if (!live_ || pending_.empty()) return;
  const bool deliver = now - quiet_since_ >= timing_.deliver_after;
  const bool show =
      on_partial_ && pending_.size() > seen_ && now - unseen_since_ >= timing_.show_after;
  if (!deliver && !show) return;
  if (partial_filter_ && !partial_filter_(pending_)) {
    seen_ = pending_.size();          // not shown; asked again when more arrives
    if (deliver) quiet_since_ = now;  // not delivered; asked again after another quiet period
    return;
  }
  if (deliver) {
    deliver_pending(now);
  } else {
    show_pending();
  }
}

void LineSplitter::show_pending() {
  std::string_view text(pending_);
  text.remove_suffix(unfinished_tail());
  seen_ = pending_.size();
  if (text.empty()) return;
  showing_ = true;
  if (is_valid_utf8(text)) {
    on_partial_(text);
    return;
  }
  scratch_.clear();
  append_sanitized_utf8(scratch_, text);
  on_partial_(scratch_);
}

void LineSplitter::deliver_pending(Clock::time_point now) {
  const std::size_t keep = unfinished_tail();
  quiet_since_ = now;  // what is kept waits for its continuation another quiet period
  if (keep == pending_.size()) {
    seen_ = pending_.size();  // nothing to show either
    return;
  }
  clear_shown();
  emit(std::string_view(pending_).substr(0, pending_.size() - keep),
       LineEnd::piece);  // at most max_line_
  pending_.erase(0, pending_.size() - keep);
  continuing_ = true;
  unseen_since_ = now;
}

std::optional<LineSplitter::Clock::time_point> LineSplitter::next_flush() const {
  if (!live_ || pending_.empty()) return std::nullopt;
  Clock::time_point at = quiet_since_ + timing_.deliver_after;
  if (on_partial_ && pending_.size() > seen_) at = std::min(at, unseen_since_ + timing_.show_after);
  return at;
}

void LineSplitter::finish() {
  clear_shown();
  if (pending_.empty()) return;
  std::string last = std::move(pending_);
  pending_.clear();
  emit_complete(last, LineEnd::end);
  continuing_ = false;
}

}  // namespace runner::logging

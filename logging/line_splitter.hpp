// LineSplitter: turns a byte stream into lines, the unit every stream event is made of.
//
// A line is the text up to `\n` or `\r\n` (terminator removed), a `max_line` (64 KiB) piece of a
// longer line, or what is left at the end of the stream. When the bytes arrive never decides
// where a line ends: block-buffered writers (sed, Python, Java on a pipe) end their writes
// anywhere, and a line whose second half comes a second later is still one line.
//
// A live stream (make_live) treats text still waiting for its newline in two more ways:
// - it may be *shown*: the partial view gets the pending text once it has waited `show_after`
//   (200 ms), again each time more has arrived and waited as long, and "" when it is no longer
//   pending (just before the line it became is emitted). That is for a terminal to draw; it is
//   not a line.
// - after `deliver_after` (10 s) without a byte, the pending text is emitted as a line, so a
//   prompt or a stalled "Waiting for ..." reaches the store during the run; what arrives after it
//   is a new line (a lone newline then only closes it, adding no empty line). This quiet-period
//   delivery is the only way one written line becomes two.
// The partial filter vetoes both for text that must be kept whole (a possible Kestra protocol
// line): it waits for its newline, the 64 KiB limit or the end of the stream.
//
// No line ever ends inside a UTF-8 character or between a `\r` and its `\n`; invalid UTF-8 is
// replaced with U+FFFD. Complete lines inside one read are handed on as views of the input,
// without copying; only a line spanning reads is buffered.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace runner::logging {

// When a live stream's partial line is shown, and when it is delivered as a line.
struct PartialLineTiming {
  std::chrono::milliseconds show_after{200};
  std::chrono::milliseconds deliver_after{10000};  // of quiet: no byte on the stream
};

class LineSplitter {
 public:
  using Clock = std::chrono::steady_clock;
  using LineFn = std::function<void(std::string_view)>;
  // The partial line a live view may show now ("" = none any more). Valid UTF-8.
  using PartialFn = std::function<void(std::string_view pending)>;
  // Says whether pending text may be shown or delivered before its newline.
  using PartialFilter = std::function<bool(std::string_view pending)>;

  explicit LineSplitter(LineFn on_line, std::size_t max_line = 64 * 1024);

  // Makes the stream live: partial lines are shown (if a view is set) and delivered after the
  // quiet period. Without it only whole lines are ever emitted.
  void make_live(PartialLineTiming timing = {}) {
    live_ = true;
    timing_ = timing;
  }
  void set_partial_view(PartialFn on_partial) { on_partial_ = std::move(on_partial); }
  void set_partial_filter(PartialFilter filter) { partial_filter_ = std::move(filter); }

  void feed(std::string_view bytes, Clock::time_point now = Clock::now());
  // Shows the pending partial line, or delivers it after the quiet period, when due.
  void flush_if_due(Clock::time_point now = Clock::now());
  // When flush_if_due() will next have something to do.
  std::optional<Clock::time_point> next_flush() const;
  // End of stream: emits whatever is pending.
  void finish();
  std::uint64_t lines_emitted() const { return lines_; }

 private:
  void emit(std::string_view line);
  void emit_complete(std::string_view line);
  // Bytes at the end of pending_ that cannot be shown or delivered yet: an unfinished UTF-8
  // character, or a `\r` that may be the start of `\r\n`.
  std::size_t unfinished_tail() const;
  void show_pending();
  void deliver_pending(Clock::time_point now);
  // Tells the view the shown text is gone (before the line it was part of is emitted).
  void clear_shown() {
    if (showing_) {
      showing_ = false;
      on_partial_(std::string_view());
    }
    seen_ = 0;
  }

  LineFn on_line_;
  PartialFn on_partial_;
  PartialFilter partial_filter_;
  std::size_t max_line_;
  bool live_ = false;
  PartialLineTiming timing_;
  std::string pending_;
  std::size_t seen_ = 0;  // bytes of pending_ the view (or the filter) has been asked about
  bool showing_ = false;  // the view shows part of pending_
  Clock::time_point unseen_since_{};  // when the first byte past seen_ arrived
  Clock::time_point quiet_since_{};   // when the last byte arrived (or delivery was last refused)
  bool continuing_ = false;           // the pending text continues a line already partly emitted
  std::string scratch_;
  std::uint64_t lines_ = 0;
};

}  // namespace runner::logging

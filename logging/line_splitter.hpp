// LineSplitter: turns a byte stream into lines for events.
//
// `\n` and `\r\n` end a line. A partial line is emitted once it has waited `idle_flush` (200 ms)
// without a newline, so a prompt or progress text shows up live; the newline that later ends
// it then closes that line instead of producing an empty event. A line longer than `max_line`
// (64 KiB) becomes several events, nothing dropped. No event ever ends inside a UTF-8 character,
// and invalid UTF-8 is replaced with U+FFFD. Complete lines inside one read are handed on as views
// of the input, without copying; only a line spanning reads is buffered.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace runner::logging {

class LineSplitter {
 public:
  using Clock = std::chrono::steady_clock;
  using LineFn = std::function<void(std::string_view)>;
  // Says whether a pending partial line may be shown now (false: wait for its newline).
  using PartialFilter = std::function<bool(std::string_view pending)>;

  explicit LineSplitter(LineFn on_line, std::size_t max_line = 64 * 1024,
                        std::chrono::milliseconds idle_flush = std::chrono::milliseconds(200));

  void feed(std::string_view bytes, Clock::time_point now = Clock::now());
  // Lines that could be the start of something structured (a Kestra protocol line) are better
  // kept whole: the filter may veto the idle flush for them.
  void set_partial_filter(PartialFilter filter) { partial_filter_ = std::move(filter); }
  // Emits the pending partial line if it has waited long enough.
  void flush_if_due(Clock::time_point now = Clock::now());
  // When flush_if_due() will next have something to do.
  std::optional<Clock::time_point> next_flush() const;
  // End of stream: emits whatever is pending.
  void finish();
  std::uint64_t lines_emitted() const { return lines_; }

 private:
  void emit(std::string_view line);
  void emit_complete(std::string_view line);
  void emit_partial(std::size_t keep_tail);

  LineFn on_line_;
  PartialFilter partial_filter_;
  std::size_t max_line_;
  std::chrono::milliseconds idle_flush_;
  std::string pending_;
  Clock::time_point pending_since_{};
  bool continuing_ = false;  // the pending text continues a line already partly emitted
  std::string scratch_;
  std::uint64_t lines_ = 0;
};

}  // namespace runner::logging

// OutputPipeline: what happens to one of a container's output streams (stdout or stderr) after
// the demultiplexer: secret scrubber -> line splitter -> Kestra protocol parser -> callbacks.
//
// The scrubber comes first so that a secret split across frames, reads or lines is still caught,
// and everything after it (lines, protocol logs, outputs, metrics, warnings, the partial-line
// view) only ever sees scrubbed text. The parser gets whole lines only (see LineSplitter), so a
// protocol line written in two halves is still parsed. One small type so the whole stream path
// is testable without Docker.
#pragma once

#include "logging/kestra_protocol.hpp"
#include "logging/line_splitter.hpp"
#include "secrets/secret_scrubber.hpp"

#include <memory>
#include <optional>
#include <string>

namespace runner {

class OutputPipeline {
 public:
  using Clock = logging::LineSplitter::Clock;
  using PartialFn = logging::LineSplitter::PartialFn;

  // `matcher` may be null (no secrets). A `live` stream (stdout in standard logging) delivers a
  // partial line after 10 s without output and can show it earlier (show_partial_lines); other
  // streams (stderr, and stdout in GELF mode, both reported once at the end) only ever emit whole
  // lines.
  OutputPipeline(std::shared_ptr<const secrets::SecretMatcher> matcher, bool live,
                 logging::KestraCallbacks callbacks);
  OutputPipeline(const OutputPipeline&) = delete;  // the splitter calls back into this object
  OutputPipeline& operator=(const OutputPipeline&) = delete;

  // A live stream's line still being written, for a live view (the terminal) to draw after
  // 200 ms: "" when there is none any more. Never a line that may be Kestra protocol.
  void show_partial_lines(PartialFn show) { splitter_.set_partial_view(std::move(show)); }

  void feed(std::string_view raw, Clock::time_point now = Clock::now());
  // Shows or delivers the partial line when due, and gives back the lines of a multi-line
  // protocol block that has not been closed after 1 s without new output (a stray "::{" must not
  // stall output).
  void flush_if_due(Clock::time_point now = Clock::now());
  std::optional<Clock::time_point> next_flush() const { return splitter_.next_flush(); }
  // End of stream: held-back bytes, the last partial line, an unclosed protocol block.
  void finish();

 private:
  std::optional<secrets::SecretScrubber> scrubber_;
  std::string scrubbed_;
  logging::KestraLineParser parser_;
  logging::LineSplitter splitter_;
  Clock::time_point last_feed_{};
};

}  // namespace runner

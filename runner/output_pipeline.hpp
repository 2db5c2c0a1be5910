// OutputPipeline: what happens to one of a container's output streams (stdout or stderr) after
// the demultiplexer: secret scrubber -> line splitter -> Kestra protocol parser -> callbacks.
//
// The scrubber comes first so that a secret split across frames, reads or lines is still caught,
// and everything after it (lines, protocol logs, outputs, metrics, warnings) only ever sees
// scrubbed text. One small type so the whole stream path is testable without Docker.
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

  // `matcher` may be null (no secrets). `live` streams show a partial line after 200 ms; others
  // (stderr, reported at the end) only ever emit whole lines.
  OutputPipeline(std::shared_ptr<const secrets::SecretMatcher> matcher, bool live,
                 logging::KestraCallbacks callbacks);
  OutputPipeline(const OutputPipeline&) = delete;  // the splitter calls back into this object
  OutputPipeline& operator=(const OutputPipeline&) = delete;

  void feed(std::string_view raw, Clock::time_point now = Clock::now());
  // Shows a partial line after 200 ms, and gives back the lines of a multi-line protocol block
  // that has not been closed after 1 s without new output (a stray "::{" must not stall output).
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

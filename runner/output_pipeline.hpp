// OutputPipeline: what happens to one of a container's output streams (stdout or stderr) after
// the demultiplexer: line splitter -> Kestra protocol parser -> callbacks, with the job's
// secrets masked on the way (secrets/masker.hpp: one rule for text, one for structured data).
//
// Lines are split from the raw bytes first, so that a protocol line reaches the parser as it was
// written: the parser reads its JSON, and whatever it decodes (outputs, metrics, log messages,
// the values its warnings quote) is masked value by value (a secret written with a JSON escape
// is caught; a number equal to a secret becomes "[hidden]" without breaking the line). Every
// other line is text, masked as one continuous stream (MaskedLineStream): a secret split across
// reads, across the pieces of a long or slow line, or across lines (a PEM key), never passes.
// A protocol-looking line that the splitter cuts into pieces (over 64 KiB) is put back together
// (up to the parser's 1 MiB) before the parser sees it, so the parser only ever gets whole lines.
// Everything handed on is masked by type (MaskedText, MaskedJson). One small type so the whole
// stream path is testable without Docker.
#pragma once

#include "logging/kestra_protocol.hpp"
#include "logging/line_splitter.hpp"
#include "secrets/masked_lines.hpp"
#include "secrets/masker.hpp"

#include <deque>
#include <functional>
#include <optional>
#include <string>

namespace runner {

class OutputPipeline {
 public:
  using Clock = logging::LineSplitter::Clock;
  using MaskedText = secrets::MaskedText;

  // What the stream said, masked. Views are valid during the call only; unset members are
  // skipped.
  struct Callbacks {
    // `continues`: a piece of a longer line (over 64 KiB, or delivered after a quiet period)
    // whose next part comes in the next call; its last part has `continues` false (and is
    // empty when the newline came alone), so the parts joined give the line's bytes back.
    std::function<void(MaskedText line, bool continues)> on_text = {};
    std::function<void(logging::Level level, MaskedText message)> on_log = {};
    std::function<void(const secrets::MaskedJson& outputs)> on_outputs = {};  // an object
    std::function<void(const logging::KestraMetric& metric)> on_metric = {};  // masked
    std::function<void(const secrets::MaskedJson& asset)> on_asset = {};      // an object
    std::function<void(MaskedText message, MaskedText line)> on_warning = {};
    // A live stream's line still being written, for a live view (the terminal) to draw after
    // 200 ms: empty when there is none any more. Never a line that may be Kestra protocol.
    std::function<void(MaskedText partial)> on_partial = {};
  };

  // A `live` stream (stdout in standard logging) delivers a partial line after 10 s without
  // output and shows it earlier (on_partial); other streams (stderr, and stdout in GELF mode,
  // both reported once at the end) only ever hand on whole lines.
  OutputPipeline(secrets::Masker masker, bool live, Callbacks callbacks);
  OutputPipeline(const OutputPipeline&) = delete;  // the splitter calls back into this object
  OutputPipeline& operator=(const OutputPipeline&) = delete;

  // The component turned the Kestra protocol off: every line is text, none is held back.
  void disable_protocol();

  void feed(std::string_view raw, Clock::time_point now = Clock::now());
  // Shows or delivers the partial line when due, and gives back the lines of a multi-line
  // protocol block that has not been closed after 1 s without new output (a stray "::{" must not
  // stall output).
  void flush_if_due(Clock::time_point now = Clock::now());
  std::optional<Clock::time_point> next_flush() const { return splitter_.next_flush(); }
  // End of stream: the last partial line, an unclosed protocol block, what masking held back.
  void finish();

 private:
  logging::KestraCallbacks parser_callbacks();
  void on_line(std::string_view line);
  void on_close();
  void route(std::string_view line, logging::LineEnd end);
  void finish_assembly(logging::LineEnd end);
  void spill_assembly();
  void to_text(std::string_view line, logging::LineEnd end);
  void show(std::string_view pending);
  void drain_text() {
    if (text_) text_->drain();
  }
  void masked_metric(const logging::KestraMetric& metric);

  secrets::Masker masker_;
  Callbacks callbacks_;
  std::optional<secrets::MaskedLineStream> text_;  // with secrets: text lines masked as a stream
  logging::KestraLineParser parser_;
  logging::LineSplitter splitter_;
  Clock::time_point last_feed_{};
  logging::LineEnd current_end_ = logging::LineEnd::newline;  // of the line the parser reads
  std::deque<logging::LineEnd> block_ends_;  // of the lines the parser holds in a block
  bool assembling_ = false;                  // pieces of a protocol-looking line are gathered
  std::string assembly_;
  bool text_continues_ = false;  // the next line continues a text line handed on in pieces
  std::string scratch_, scratch2_;
  std::string redrawn_;  // a text line redrawn with '\r', in its final state
  nlohmann::json json_scratch_;
  logging::KestraMetric metric_;
};

}  // namespace runner

// StreamRules: what a container's two output streams become, by Keboola's rules plus Kestra's
// protocol.
//
// - stdout: every line an info event as it arrives (standard logging), or, in GELF mode where
//   the component logs through GELF, kept and reported once after the exit as one info event;
//   a live stdout also shows a line still being written (the terminal's partial row).
// - stderr: kept and reported once after the exit as one error event (Keboola's rule).
// - both: Kestra protocol lines become `kestra` log events, output and metric records, and the
//   job's results (KestraResults, owned by the caller so that several container runs of one job
//   merge into one result); a bad protocol line becomes a warning carrying the line.
// - response mode (a sync action): stdout is the answer, kept byte for byte (bounded, masked at
//   the end) and never an event; stderr as above.
// - kept texts are bounded: head and tail of 1 MiB each (stdout: 16 KiB, enough for a 4000-
//   character message, unless held), and they are what the outcome's message is taken from.
// Each stream goes through its own OutputPipeline (line splitter, Kestra parser, masking), so a
// StreamRules is the whole stream path of one container run, testable without Docker. All it
// gets is masked (MaskedText, MaskedJson), and all it writes goes to the job's EventLog.
#pragma once

#include "logging/event_log.hpp"
#include "logging/head_tail_buffer.hpp"
#include "logging/kestra_results.hpp"
#include "runner/output_pipeline.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace runner {

// What the streams said, for the outcome's message.
struct StreamTexts {
  std::string stdout_text;
  std::string stderr_text;
  std::uint64_t stdout_omitted = 0;  // bytes of stdout left out between head and tail
};

class StreamRules {
 public:
  using Clock = OutputPipeline::Clock;
  // held: GELF logging; response: a sync action's answer (sync_action.hpp), kept and never an
  // event.
  enum class StdoutMode { live, held, response };

  StreamRules(logging::EventLog& events, const secrets::Masker& masker, StdoutMode mode,
              logging::KestraResults& results);
  StreamRules(const StreamRules&) = delete;  // the pipelines call back into this object
  StreamRules& operator=(const StreamRules&) = delete;

  // logging.kestra_protocol false: both streams are text only (before the first byte is fed).
  void disable_protocol();
  void feed_stdout(std::string_view bytes, Clock::time_point now = Clock::now());
  void feed_stderr(std::string_view bytes, Clock::time_point now = Clock::now());
  // Timed work of the pipelines (partial lines, stalled protocol blocks); next_flush says when.
  void flush_if_due(Clock::time_point now = Clock::now());
  std::optional<Clock::time_point> next_flush() const { return stdout_.next_flush(); }
  // End of both streams: their last partial lines and unclosed protocol blocks.
  void end_streams();
  // After the exit: the held stdout (GELF mode) as one info event and stderr as one error event,
  // each when not empty. Returns the kept texts.
  StreamTexts report_held();

 private:
  OutputPipeline::Callbacks protocol_callbacks();
  void keep_stdout(secrets::MaskedText line, bool continues);
  void keep_stderr(secrets::MaskedText line, bool continues);

  logging::EventLog& events_;
  secrets::Masker masker_;  // a copy: the pipelines have theirs too
  StdoutMode mode_;
  // Response mode: stdout's bytes as they came (up to kMaxActionResponseBytes), masked as one
  // text at the end, since a response is one document, not lines.
  std::string response_;
  std::uint64_t response_omitted_ = 0;
  logging::KestraResults& results_;
  logging::HeadTailBuffer stdout_text_;
  logging::HeadTailBuffer stderr_text_;
  std::string members_;            // scratch for output and metric records
  bool stdout_in_pieces_ = false;  // the last stdout part was a piece of a longer line
  OutputPipeline stdout_;
  OutputPipeline stderr_;
};

}  // namespace runner

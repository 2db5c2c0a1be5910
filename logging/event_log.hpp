// EventLog: the single entry point through which a job's events reach its sinks.
//
// It stamps each event with the job id, a sequence number (1, 2, ...) and the UTC time, then
// hands it to every sink in order. Text from the job's streams arrives here already scrubbed by
// the stream path; every other message (runner's own, errors quoting the engine) passes through
// the optional text filter (the secret scrubber) first, so no caller can forget it.
#pragma once

#include "logging/event.hpp"
#include "logging/event_sink.hpp"

#include <functional>
#include <string>
#include <vector>

namespace runner::logging {

class EventLog {
 public:
  using TextFilter = std::function<std::string(std::string_view)>;

  explicit EventLog(std::string job_id) : job_id_(std::move(job_id)) {}

  void add_sink(EventSink& sink) { sinks_.push_back(&sink); }
  void set_text_filter(TextFilter filter) { filter_ = std::move(filter); }
  const std::string& job_id() const { return job_id_; }

  // Text that has not been through the stream scrubber: filtered here.
  void emit(Level level, std::string_view source, std::string_view message,
            const nlohmann::json* fields = nullptr);
  // Text already scrubbed on the stream path (stdout/stderr lines): passed as is.
  void emit_scrubbed(Level level, std::string_view source, std::string_view message,
                     const nlohmann::json* fields = nullptr);
  // A structured record (kind "output" or "metric") built from stream text that was already
  // scrubbed: stamped like an event; `members` is its own JSON object members as text.
  void record_scrubbed(std::string_view kind, std::string_view members);
  // A line of a live stream still being written, already scrubbed on the stream path, for the
  // sinks that show text live ("" = none any more). Not an event: no sequence number.
  void show_partial(Level level, std::string_view source, std::string_view text);
  // Applies the text filter (identity when none is set).
  std::string filter(std::string_view text) const;

  void finish(JobSummary summary);
  void flush();
  std::uint64_t events_emitted() const { return sequence_; }
  // Numbers the next event sequence + 1: a job taken over by another worker continues its
  // stored sequence, so event ids stay unique.
  void continue_after(std::uint64_t sequence) { sequence_ = sequence; }

 private:
  std::string job_id_;
  std::vector<EventSink*> sinks_;
  TextFilter filter_;
  std::uint64_t sequence_ = 0;
};

}  // namespace runner::logging

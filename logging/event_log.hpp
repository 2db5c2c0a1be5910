// EventLog: the single entry point through which a job's events reach its sinks.
//
// It stamps each event with the job id, a sequence number (1, 2, ...) and the UTC time, then
// hands it to every sink in order. Nothing reaches a sink unmasked (secrets/masker.hpp): text
// and fields given as plain strings and JSON are masked here with the job's secrets (runner's
// own messages, errors quoting the engine, GELF messages); what the stream path has already
// masked arrives typed as MaskedText and MaskedJson and passes as it is. There is no other way
// in, so no caller can forget the masking.
#pragma once

#include "logging/event.hpp"
#include "logging/event_sink.hpp"
#include "secrets/masker.hpp"

#include <string>
#include <vector>

namespace runner::logging {

class EventLog {
 public:
  using MaskedText = secrets::MaskedText;
  using MaskedJson = secrets::MaskedJson;

  explicit EventLog(std::string job_id) : job_id_(std::move(job_id)) {}

  void add_sink(EventSink& sink) { sinks_.push_back(&sink); }
  // The job's secrets, from now on masked in everything that passes.
  void set_masker(secrets::Masker masker) { masker_ = std::move(masker); }
  const secrets::Masker& masker() const { return masker_; }
  const std::string& job_id() const { return job_id_; }
  // Members added to the fields of every event from now on (an object, {} for none): the stage
  // and row of a job of several container runs (docs/events.md). Built by runner from validated
  // ids, never from secrets.
  void set_context(nlohmann::json context) { context_ = std::move(context); }

  // Text and fields (an object) masked here.
  void emit(Level level, std::string_view source, std::string_view message,
            const nlohmann::json* fields = nullptr);
  // Text and fields masked already.
  void emit(Level level, std::string_view source, MaskedText message,
            const MaskedJson* fields = nullptr);
  // A structured record (kind "output" or "metric") built from masked values: stamped like an
  // event; `members` is its own JSON object members as text.
  void record(std::string_view kind, MaskedText members);
  // A line of a live stream still being written, for the sinks that show text live ("" = none
  // any more). Not an event: no sequence number.
  void show_partial(Level level, std::string_view source, MaskedText text);
  // `text` masked with the job's secrets, for texts kept outside the log.
  std::string mask(std::string_view text) const { return masker_.mask_copy(text); }

  // Masks the summary (its message and results summary as text, outputs and metrics value by
  // value), hands it to every sink's finish(), and returns it as the sinks got it.
  JobSummary finish(JobSummary summary);
  void flush();
  std::uint64_t events_emitted() const { return sequence_; }
  // Numbers the next event sequence + 1: a job taken over by another worker continues its
  // stored sequence, so event ids stay unique.
  void continue_after(std::uint64_t sequence) { sequence_ = sequence; }

 private:
  void write(Level level, std::string_view source, std::string_view message,
             const nlohmann::json* fields);

  std::string job_id_;
  std::vector<EventSink*> sinks_;
  secrets::Masker masker_;
  std::uint64_t sequence_ = 0;
  std::string scratch_;
  nlohmann::json fields_scratch_;
  nlohmann::json context_ = nlohmann::json::object();
  nlohmann::json context_scratch_;
};

}  // namespace runner::logging

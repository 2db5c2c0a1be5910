// EventLog: see the header.
#include "logging/event_log.hpp"

namespace runner::logging {

std::string EventLog::filter(std::string_view text) const {
  return filter_ ? filter_(text) : std::string(text);
}

void EventLog::emit(Level level, std::string_view source, std::string_view message,
                    const nlohmann::json* fields) {
  if (!filter_) {
    emit_scrubbed(level, source, message, fields);
    return;
  }
  const std::string clean = filter_(message);
  if (fields == nullptr) {
    emit_scrubbed(level, source, clean, nullptr);
    return;
  }
  // Field names and values are text too: scrub the serialised form and parse it back.
  nlohmann::json clean_fields = nlohmann::json::parse(filter_(fields->dump()), nullptr, false);
  if (clean_fields.is_discarded()) clean_fields = nlohmann::json::object();
  emit_scrubbed(level, source, clean, &clean_fields);
}

void EventLog::emit_scrubbed(Level level, std::string_view source, std::string_view message,
                             const nlohmann::json* fields) {
  Event event;
  event.time = now_utc();
  event.job_id = job_id_;
  event.sequence = ++sequence_;
  event.level = level;
  event.source = source;
  event.message = message;
  event.fields = fields;
  for (EventSink* sink : sinks_) sink->write(event);
}

void EventLog::record_scrubbed(std::string_view kind, std::string_view members) {
  Record record;
  record.time = now_utc();
  record.job_id = job_id_;
  record.sequence = ++sequence_;
  record.kind = kind;
  record.members = members;
  for (EventSink* sink : sinks_) sink->write_record(record);
}

void EventLog::show_partial(Level level, std::string_view source, std::string_view text) {
  PartialLine line;
  line.time = now_utc();
  line.job_id = job_id_;
  line.level = level;
  line.source = source;
  line.text = text;
  for (EventSink* sink : sinks_) sink->show_partial(line);
}

void EventLog::finish(JobSummary summary) {
  summary.job_id = job_id_;
  summary.message = filter(summary.message);
  if (filter_) {
    // Outputs and metrics came through the stream scrubber already; filter again in case a
    // caller filled them from elsewhere.
    summary.outputs = nlohmann::json::parse(filter_(summary.outputs.dump()), nullptr, false);
    summary.metrics = nlohmann::json::parse(filter_(summary.metrics.dump()), nullptr, false);
    summary.results_summary = filter(summary.results_summary);
  }
  for (EventSink* sink : sinks_) sink->finish(summary);
  flush();
}

void EventLog::flush() {
  for (EventSink* sink : sinks_) sink->flush();
}

}  // namespace runner::logging

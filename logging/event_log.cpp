// EventLog: see the header.
#include "logging/event_log.hpp"

namespace runner::logging {

void EventLog::emit(Level level, std::string_view source, std::string_view message,
                    const nlohmann::json* fields) {
  const MaskedText clean = masker_.mask(message, scratch_);
  if (fields == nullptr) {
    write(level, source, clean.view(), nullptr);
    return;
  }
  const MaskedJson clean_fields = masker_.mask(*fields, fields_scratch_);
  write(level, source, clean.view(), &clean_fields.json());
}

void EventLog::emit(Level level, std::string_view source, MaskedText message,
                    const MaskedJson* fields) {
  write(level, source, message.view(), fields != nullptr ? &fields->json() : nullptr);
}

void EventLog::write(Level level, std::string_view source, std::string_view message,
                     const nlohmann::json* fields) {
  if (!context_.empty()) {
    if (fields == nullptr) {
      fields = &context_;
    } else if (fields->is_object()) {
      context_scratch_ = *fields;
      for (const auto& [key, value] : context_.items()) context_scratch_[key] = value;
      fields = &context_scratch_;
    }
  }
  Event event;
  event.time = now_utc();
  event.job_id = job_id_;
  event.sequence = ++sequence_;
  event.level = level;
  event.source = source;
  event.message = message;
  event.fields = fields;
  for (EventSink* sink : sinks_) sink->write(event);
  // Runner's own events are few and often come while the container says nothing (a pull being
  // retried, a stop being waited for): they reach a file or a pipe now, not at the next batch.
  if (source == "runner") flush();
}

void EventLog::record(std::string_view kind, MaskedText members) {
  Record record;
  record.time = now_utc();
  record.job_id = job_id_;
  record.sequence = ++sequence_;
  record.kind = kind;
  record.members = members.view();
  for (EventSink* sink : sinks_) sink->write_record(record);
}

void EventLog::show_partial(Level level, std::string_view source, MaskedText text) {
  PartialLine line;
  line.time = now_utc();
  line.job_id = job_id_;
  line.level = level;
  line.source = source;
  line.text = text.view();
  for (EventSink* sink : sinks_) sink->show_partial(line);
}

JobSummary EventLog::finish(JobSummary summary) {
  summary.job_id = job_id_;
  summary.message = masker_.mask_copy(summary.message);
  summary.results_summary = masker_.mask_copy(summary.results_summary);
  // Outputs and metrics were masked where they were decoded; a caller may fill them from
  // elsewhere, so they are masked again here, value by value.
  masker_.mask_in_place(summary.outputs);
  masker_.mask_in_place(summary.metrics);
  masker_.mask_in_place(summary.assets);
  if (summary.usage) masker_.mask_in_place(*summary.usage);
  masker_.mask_in_place(summary.rows);
  masker_.mask_in_place(summary.stages);
  for (EventSink* sink : sinks_) sink->settle(summary);
  for (EventSink* sink : sinks_) sink->finish(summary);
  flush();
  return summary;
}

void EventLog::flush() {
  for (EventSink* sink : sinks_) sink->flush();
}

}  // namespace runner::logging

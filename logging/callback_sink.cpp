// CallbackSink: see the header.
#include "logging/callback_sink.hpp"

namespace runner::logging {

OwnedEvent OwnedEvent::copy_of(const Event& event) {
  OwnedEvent copy;
  copy.time = event.time;
  copy.job_id = event.job_id;
  copy.sequence = event.sequence;
  copy.level = event.level;
  copy.source = event.source;
  copy.message = event.message;
  if (event.fields != nullptr) copy.fields = *event.fields;
  return copy;
}

Event OwnedEvent::view() const {
  Event event;
  event.time = time;
  event.job_id = job_id;
  event.sequence = sequence;
  event.level = level;
  event.source = source;
  event.message = message;
  event.fields = fields.is_null() ? nullptr : &fields;
  return event;
}

OwnedRecord OwnedRecord::copy_of(const Record& record) {
  OwnedRecord copy;
  copy.time = record.time;
  copy.job_id = record.job_id;
  copy.sequence = record.sequence;
  copy.kind = record.kind;
  copy.members = record.members;
  return copy;
}

nlohmann::json OwnedRecord::to_json() const {
  nlohmann::json object = nlohmann::json::parse("{" + members + "}", nullptr, false);
  if (!object.is_object()) return nlohmann::json::object();
  return object;
}

Record OwnedRecord::view() const {
  Record record;
  record.time = time;
  record.job_id = job_id;
  record.sequence = sequence;
  record.kind = kind;
  record.members = members;
  return record;
}

void CallbackSink::write(const Event& event) {
  if (callbacks_.on_event) callbacks_.on_event(OwnedEvent::copy_of(event));
}

void CallbackSink::write_record(const Record& record) {
  if (callbacks_.on_record) callbacks_.on_record(OwnedRecord::copy_of(record));
}

void CallbackSink::finish(const JobSummary& summary) {
  if (callbacks_.on_finish) callbacks_.on_finish(summary);
}

void CallbackSink::flush() {
  if (callbacks_.on_flush) callbacks_.on_flush();
}

}  // namespace runner::logging

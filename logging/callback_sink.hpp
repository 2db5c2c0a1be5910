// CallbackSink: an EventSink that hands a job's events, records and final summary to functions
// the embedding program supplies. It is how a worker receives a job's output without writing a
// sink class of its own.
//
// Events reach sinks as views (logging/event.hpp) valid only during the call. CallbackSink
// copies each one into an OwnedEvent (an OwnedRecord for records) that owns its text, so a
// callback may keep it, move it into a queue or hand it to another thread. That costs a few
// allocations per event; a program that needs the allocation-free path writes its own EventSink.
//
// Threading: every callback runs on the thread that called JobRunner::run(), inside the job's
// poll loop, in sequence order. A slow callback slows the job's output (and its stop and
// timeout checks) down; hand work off to another thread when it is more than printing.
// Callbacks should not throw: an exception from on_event or on_record ends the job as an
// internal error, and one from on_finish escapes JobRunner::run().
//
//   logging::CallbackSink sink({
//       .on_event = [](logging::OwnedEvent e) { std::puts(e.message.c_str()); },
//       .on_finish = [](const logging::JobSummary& s) { std::puts(s.message.c_str()); },
//   });
//   events.add_sink(sink);  // the sink must outlive the EventLog's use
#pragma once

#include "logging/event.hpp"
#include "logging/event_sink.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace runner::logging {

// An Event that owns its text. `fields` is null when the event has none.
struct OwnedEvent {
  EventTime time;
  std::string job_id;
  std::uint64_t sequence = 0;
  Level level = Level::info;
  std::string source;
  std::string message;
  nlohmann::json fields;

  static OwnedEvent copy_of(const Event& event);
  // A view of this copy (valid while it lives and is not modified), e.g. to pass it on to
  // another sink later.
  Event view() const;
};

// A Record (kind "output" or "metric") that owns its text.
struct OwnedRecord {
  EventTime time;
  std::string job_id;
  std::uint64_t sequence = 0;
  std::string kind;
  std::string members;  // the record's own JSON object members as text: `"name":"rows",...`

  static OwnedRecord copy_of(const Record& record);
  // The members as a JSON object ({"name": "rows", "value": 5, ...}); an empty object when they
  // do not parse.
  nlohmann::json to_json() const;
  Record view() const;
};

class CallbackSink final : public EventSink {
 public:
  // Every function is optional: an empty one is not called. Set them by name (designated
  // initializers); the `= {}` keeps GCC's -Wmissing-field-initializers quiet about the others.
  struct Callbacks {
    std::function<void(OwnedEvent)> on_event = {};
    std::function<void(OwnedRecord)> on_record = {};        // Kestra protocol outputs and metrics
    std::function<void(const JobSummary&)> on_finish = {};  // once, after the last event
    // After each batch the runner processed (one read from the engine): a point to flush
    // buffered output.
    std::function<void()> on_flush = {};
  };

  explicit CallbackSink(Callbacks callbacks) : callbacks_(std::move(callbacks)) {}

  void write(const Event& event) override;
  void write_record(const Record& record) override;
  void finish(const JobSummary& summary) override;
  void flush() override;

 private:
  Callbacks callbacks_;
};

}  // namespace runner::logging

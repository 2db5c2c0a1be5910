// EventSink: where events go (the terminal, a JSON Lines file, the store, an embedder's callbacks).
//
// Sinks get every event in sequence order and a final JobSummary. flush() is called after each
// batch the runner processes (one read from the engine), so a sink can buffer within a batch and
// still show output live. Records (outputs, metrics) share the events' sequence numbers. A
// partial line (show_partial) is not an event: a live view may draw it until the line completes.
#pragma once

#include "logging/event.hpp"

namespace runner::logging {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void write(const Event& event) = 0;
  // A structured record other than an event; sinks that only show text may ignore it.
  virtual void write_record(const Record& record) { (void)record; }
  // A line still being written, for sinks that show text live (the terminal); others ignore it.
  virtual void show_partial(const PartialLine& line) { (void)line; }
  // Before any sink finishes: a sink whose own work is not done (the store writing back events
  // that waited) completes it and may change the summary (a warning in the message of a job
  // that has none, or the job's failure).
  virtual void settle(JobSummary& summary) { (void)summary; }
  virtual void finish(const JobSummary& summary) = 0;
  virtual void flush() {}
};

}  // namespace runner::logging

// EventSink: where events go (terminal, JSON Lines file, later the store and exporters).
//
// Sinks get every event in sequence order and a final JobSummary. flush() is called after each
// batch the runner processes (one read from the engine), so a sink can buffer within a batch and
// still show output live.
#pragma once

#include "logging/event.hpp"

namespace runner::logging {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void write(const Event& event) = 0;
  virtual void finish(const JobSummary& summary) = 0;
  virtual void flush() {}
};

}  // namespace runner::logging

// JsonLinesSink: `--events FILE|-`, one JSON object per line.
//
// {"kind":"event","time":...,"job_id":...,"seq":N,"level":...,"source":...,"message":...}
// for each event (plus "fields" when present) and a last {"kind":"result",...} record with
// status, exit code, duration and message. Written by hand for speed; see json_text.hpp.
#pragma once

#include "logging/event_sink.hpp"
#include "logging/output_file.hpp"

#include <string>

namespace runner::logging {

class JsonLinesSink final : public EventSink {
 public:
  explicit JsonLinesSink(OutputFile out) : out_(std::move(out)) {}
  void write(const Event& event) override;
  void write_record(const Record& record) override;
  void finish(const JobSummary& summary) override;
  void flush() override { out_.flush(); }

 private:
  // {"kind":"<kind>","time":"...","job_id":"...","seq":N   (no closing brace)
  void begin_line(std::string_view kind, EventTime time, std::string_view job_id,
                  std::uint64_t sequence);

  OutputFile out_;
  std::string line_;
  std::int64_t cached_second_ = -1;
  std::string cached_prefix_;  // "2026-11-21T11:54:14."
};

// The same record as a json value (for tests and for sinks that prefer json).
nlohmann::ordered_json summary_to_json(const JobSummary& summary);

}  // namespace runner::logging

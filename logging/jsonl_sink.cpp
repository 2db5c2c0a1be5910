// JsonLinesSink: see the header. The date part of the timestamp is formatted once per second.
#include "logging/jsonl_sink.hpp"

#include "logging/json_text.hpp"

#include <charconv>

namespace runner::logging {

void JsonLinesSink::begin_line(std::string_view kind, EventTime time, std::string_view job_id,
                               std::uint64_t sequence) {
  line_.clear();
  line_ += R"({"kind":")";
  line_ += kind;
  line_ += R"(","time":")";
  const std::int64_t us = time.time_since_epoch().count();
  const std::int64_t second = us / 1000000;
  if (second != cached_second_) {
    cached_second_ = second;
    const std::string full = format_time(time);  // ...SS.ffffffZ
    cached_prefix_ = full.substr(0, full.size() - 7);
  }
  line_ += cached_prefix_;
  char frac[6];
  auto micros = static_cast<unsigned>(us % 1000000);
  for (int i = 5; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  line_.append(frac, 6);
  line_ += R"(Z","job_id":)";
  append_json_string(line_, job_id);
  line_ += R"(,"seq":)";
  char num[24];
  auto res = std::to_chars(num, num + sizeof num, sequence);
  line_.append(num, res.ptr);
}

void JsonLinesSink::write(const Event& event) {
  begin_line("event", event.time, event.job_id, event.sequence);
  line_ += R"(,"level":")";
  line_ += level_name(event.level);
  line_ += R"(","source":)";
  append_json_string(line_, event.source);
  line_ += R"(,"message":)";
  append_json_string(line_, event.message);
  if (event.fields != nullptr && !event.fields->is_null()) {
    line_ += R"(,"fields":)";
    line_ += event.fields->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  line_ += "}\n";
  out_.write(line_);
}

void JsonLinesSink::write_record(const Record& record) {
  begin_line(record.kind, record.time, record.job_id, record.sequence);
  if (!record.members.empty()) {
    line_ += ',';
    line_ += record.members;
  }
  line_ += "}\n";
  out_.write(line_);
}

nlohmann::ordered_json summary_to_json(const JobSummary& s) {
  nlohmann::ordered_json j = {{"kind", "result"},
                              {"job_id", s.job_id},
                              {"component_id", s.component_id},
                              {"status", job_status_name(s.status)},
                              {"exit_code", s.exit_code},
                              {"duration", s.duration_seconds},
                              {"message", s.message}};
  j["error_type"] = s.error_type == ErrorType::none
                        ? nlohmann::ordered_json()
                        : nlohmann::ordered_json(error_type_name(s.error_type));
  j["container_exit_code"] = s.container_exit_code ? nlohmann::ordered_json(*s.container_exit_code)
                                                   : nlohmann::ordered_json();
  j["outputs"] = s.outputs;
  j["metrics"] = s.metrics;
  j["assets"] = s.assets;
  if (s.usage) j["usage"] = *s.usage;
  if (!s.state_change.empty()) j["state"] = s.state_change;
  if (!s.rows.empty()) j["rows"] = s.rows;
  if (!s.stages.empty()) j["stages"] = s.stages;
  return j;
}

void JsonLinesSink::finish(const JobSummary& summary) {
  out_.write(summary_to_json(summary).dump(-1, ' ', false,
                                           nlohmann::ordered_json::error_handler_t::replace));
  out_.write("\n");
  out_.flush();
}

}  // namespace runner::logging

// KestraResults: the outputs and metrics a job reported through the Kestra protocol, merged over
// the whole run, for the `result` record, `--outputs FILE` and the terminal summary.
//
// Outputs merge shallowly, last writer wins per key (Kestra's rule). Metrics with the same type,
// name and tags are one series: counters and timers add, gauges keep the last value. Series keep
// first-seen order, found through a hash of "type, name, canonical tags" so that millions of
// metric lines stay cheap; tags are a nlohmann object (sorted keys), so its dump is canonical.
#pragma once

#include "logging/kestra_protocol.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace runner::logging {

// {"name", "type", "value", "tags", "description" (only when set)}; whole values as integers.
nlohmann::json metric_to_json(const KestraMetric& metric);
// The same as JSON object members (`"name":...,"type":...`), appended to `out`, for records.
void append_metric_members(std::string& out, const KestraMetric& metric);
// `"name":<name>,"value":<value>` for one output, appended to `out`.
void append_output_members(std::string& out, std::string_view name, const nlohmann::json& value);

class KestraResults {
 public:
  // Merges the members of `outputs` (an object; anything else is ignored).
  void add_outputs(const nlohmann::json& outputs);
  void add_metric(const KestraMetric& metric);
  // Kestra.assets(): each asset object, in the order reported.
  void add_asset(const nlohmann::json& asset);

  bool empty() const { return outputs_.empty() && metrics_.empty() && assets_.empty(); }
  // {"key": value, ...}
  nlohmann::json outputs() const;
  // [{"name", "type", "value", "tags", "description" (only when set)}, ...], first-seen order.
  nlohmann::json metrics() const;
  // [{...}, ...]: the assets as reported.
  const nlohmann::json& assets() const { return assets_; }
  // {"outputs": {...}, "metrics": [...], "assets": [...]}
  nlohmann::json to_json() const;
  // One line for the terminal, e.g.
  //   outputs: a=1, b="x"; metrics: rows{p=a} (counter)=15, duration (timer)=2.5s
  // Values longer than 40 bytes are cut; items past `max_bytes` are counted ("... 12 more").
  // Empty when there is nothing to show.
  std::string summary(std::size_t max_bytes = 400) const;

 private:
  nlohmann::json outputs_ = nlohmann::json::object();
  std::vector<KestraMetric> metrics_;
  nlohmann::json assets_ = nlohmann::json::array();
  std::unordered_map<std::string, std::size_t> metric_index_;  // series key -> metrics_ index
  std::string key_scratch_;
};

}  // namespace runner::logging

// KestraResults: see the header.
#include "logging/kestra_results.hpp"

#include "common/utf8.hpp"
#include "logging/json_text.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace runner::logging {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxShown = 40;

std::string shortened(std::string_view text) {
  if (text.size() <= kMaxShown) return std::string(text);
  std::string out(text.substr(0, utf8_cut_point(text, kMaxShown)));
  out += "...";
  return out;
}

std::string shown(const json& value) {
  return shortened(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

// "rows{p=a,q=b} (counter)=15" or "duration (timer)=2.5s"
std::string metric_item(const KestraMetric& metric) {
  std::string item = shortened(metric.name);
  if (metric.tags.is_object() && !metric.tags.empty()) {
    item += '{';
    bool first = true;
    for (const auto& tag : metric.tags.items()) {
      if (!first) item += ',';
      first = false;
      item += shortened(tag.key());
      item += '=';
      item += tag.value().is_string() ? shortened(tag.value().get_ref<const std::string&>())
                                      : shown(tag.value());
    }
    item += '}';
  }
  item += fmt::format(" ({})={}", metric.type, metric.value);
  if (metric.type == "timer") item += 's';
  return item;
}

// Appends "label: item, item, ... N more" using at most about `budget` bytes (one item always).
void append_section(std::string& out, std::string_view label, const std::vector<std::string>& items,
                    std::size_t budget) {
  const std::size_t start = out.size();
  out += label;
  out += ": ";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::size_t separator = i > 0 ? 2 : 0;
    if (i > 0 && out.size() - start + separator + items[i].size() > budget) {
      out += fmt::format(", ... {} more", items.size() - i);
      return;
    }
    if (i > 0) out += ", ";
    out += items[i];
  }
}

}  // namespace

void KestraResults::add_outputs(const json& outputs) {
  if (!outputs.is_object()) return;
  for (const auto& item : outputs.items()) outputs_[item.key()] = item.value();
}

void KestraResults::add_metric(const KestraMetric& metric) {
  key_scratch_.clear();
  key_scratch_ += metric.type;
  key_scratch_ += '\0';
  key_scratch_ += metric.name;
  key_scratch_ += '\0';
  if (metric.tags.is_object())
    key_scratch_ += metric.tags.dump();
  else
    key_scratch_ += "{}";

  const auto found = metric_index_.find(key_scratch_);
  if (found == metric_index_.end()) {
    metric_index_.emplace(key_scratch_, metrics_.size());
    metrics_.push_back(metric);
    if (!metrics_.back().tags.is_object()) metrics_.back().tags = json::object();
    return;
  }
  KestraMetric& series = metrics_[found->second];
  if (metric.type == "gauge") {
    series.value = metric.value;
  } else {
    series.value += metric.value;
  }
  if (!metric.description.empty()) series.description = metric.description;
}

json KestraResults::outputs() const {
  return outputs_;
}

namespace {
// Whole values (counts, mostly) are written as integers: 12, not 12.0.
json metric_value(double value) {
  const bool whole = std::abs(value) < 9.0e15 && value == std::trunc(value);
  return whole ? json(static_cast<std::int64_t>(value)) : json(value);
}
}  // namespace

json metric_to_json(const KestraMetric& metric) {
  json entry = {{"name", metric.name},
                {"type", metric.type},
                {"value", metric_value(metric.value)},
                {"tags", metric.tags}};
  if (!metric.description.empty()) entry["description"] = metric.description;
  return entry;
}

void append_metric_members(std::string& out, const KestraMetric& metric) {
  out += "\"name\":";
  append_json_string(out, metric.name);
  out += ",\"type\":";
  append_json_string(out, metric.type);
  out += ",\"value\":";
  out += metric_value(metric.value).dump();
  out += ",\"tags\":";
  out += metric.tags.is_object() ? metric.tags.dump(-1, ' ', false, json::error_handler_t::replace)
                                 : std::string("{}");
  if (!metric.description.empty()) {
    out += ",\"description\":";
    append_json_string(out, metric.description);
  }
}

void append_output_members(std::string& out, std::string_view name, const json& value) {
  out += "\"name\":";
  append_json_string(out, name);
  out += ",\"value\":";
  out += value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json KestraResults::metrics() const {
  json list = json::array();
  for (const KestraMetric& metric : metrics_) list.push_back(metric_to_json(metric));
  return list;
}

void KestraResults::add_asset(const json& asset) {
  assets_.push_back(asset);
}

json KestraResults::to_json() const {
  return {{"outputs", outputs()}, {"metrics", metrics()}, {"assets", assets_}};
}

std::string KestraResults::summary(std::size_t max_bytes) const {
  std::vector<std::string> output_items;
  for (const auto& item : outputs_.items()) {
    output_items.push_back(shortened(item.key()) + "=" + shown(item.value()));
  }
  std::vector<std::string> metric_items;
  for (const KestraMetric& metric : metrics_) metric_items.push_back(metric_item(metric));

  const bool both = !output_items.empty() && !metric_items.empty();
  const std::size_t budget = both ? max_bytes / 2 : max_bytes;
  std::string out;
  if (!output_items.empty()) append_section(out, "outputs", output_items, budget);
  if (both) out += "; ";
  if (!metric_items.empty()) append_section(out, "metrics", metric_items, budget);
  return out;
}

}  // namespace runner::logging

// KestraResults: shallow output merge, metric aggregation per type+name+tags, the JSON shapes
// and the terminal summary with its truncation.
#include "logging/kestra_results.hpp"

#include <catch2/catch.hpp>

#include <string>

using nlohmann::json;
using runner::logging::KestraMetric;
using runner::logging::KestraResults;

namespace {
KestraMetric metric(std::string name, std::string type, double value, json tags = json::object(),
                    std::string description = "") {
  return KestraMetric{std::move(name), std::move(type), value, std::move(tags),
                      std::move(description)};
}
}  // namespace

TEST_CASE("outputs merge shallowly, last writer wins per key", "[kestra]") {
  KestraResults results;
  CHECK(results.empty());
  CHECK(results.outputs() == json::object());
  results.add_outputs({{"a", 1}, {"nested", {{"x", 1}, {"y", 2}}}});
  results.add_outputs({{"b", "two"}, {"nested", {{"z", 3}}}});
  results.add_outputs({{"a", 10}});
  results.add_outputs(json::array({1, 2}));  // not an object: ignored
  CHECK(results.outputs() == json{{"a", 10}, {"b", "two"}, {"nested", {{"z", 3}}}});
  CHECK_FALSE(results.empty());
}

TEST_CASE("metrics aggregate per type, name and tags", "[kestra]") {
  KestraResults results;
  results.add_metric(metric("rows", "counter", 5, {{"p", "a"}}));
  results.add_metric(metric("duration", "timer", 1.5));
  results.add_metric(metric("rows", "counter", 10, {{"p", "a"}}, "rows read"));
  results.add_metric(metric("rows", "counter", 1, {{"p", "b"}}));
  results.add_metric(metric("rows", "gauge", 7));
  results.add_metric(metric("duration", "timer", 1.0));
  results.add_metric(metric("rows", "gauge", 3));
  results.add_metric(metric("multi", "counter", 1, {{"b", "2"}, {"a", "1"}}));
  results.add_metric(metric("multi", "counter", 2, {{"a", "1"}, {"b", "2"}}));
  results.add_metric(metric("untagged", "counter", 1, json()));  // null tags count as {}
  results.add_metric(metric("untagged", "counter", 1));

  const json expected = json::array({
      {{"name", "rows"},
       {"type", "counter"},
       {"value", 15.0},
       {"tags", {{"p", "a"}}},
       {"description", "rows read"}},
      {{"name", "duration"}, {"type", "timer"}, {"value", 2.5}, {"tags", json::object()}},
      {{"name", "rows"}, {"type", "counter"}, {"value", 1.0}, {"tags", {{"p", "b"}}}},
      {{"name", "rows"}, {"type", "gauge"}, {"value", 3.0}, {"tags", json::object()}},
      {{"name", "multi"}, {"type", "counter"}, {"value", 3.0}, {"tags", {{"a", "1"}, {"b", "2"}}}},
      {{"name", "untagged"}, {"type", "counter"}, {"value", 2.0}, {"tags", json::object()}},
  });
  CHECK(results.metrics() == expected);
  CHECK(results.to_json() ==
        json{{"outputs", json::object()}, {"metrics", expected}, {"assets", json::array()}});
}

TEST_CASE("the summary lists outputs and metrics briefly", "[kestra]") {
  KestraResults results;
  CHECK(results.summary().empty());
  results.add_outputs({{"a", 1}, {"b", "x"}});
  CHECK(results.summary() == R"(outputs: a=1, b="x")");
  results.add_metric(metric("rows", "counter", 5, {{"p", "a"}}));
  results.add_metric(metric("rows", "counter", 10, {{"p", "a"}}));
  results.add_metric(metric("duration", "timer", 2.5));
  CHECK(results.summary() ==
        R"(outputs: a=1, b="x"; metrics: rows{p=a} (counter)=15, duration (timer)=2.5s)");

  KestraResults only_metrics;
  only_metrics.add_metric(metric("load", "gauge", 0.75));
  CHECK(only_metrics.summary() == "metrics: load (gauge)=0.75");
}

TEST_CASE("a long summary is cut sensibly", "[kestra]") {
  KestraResults results;
  results.add_outputs({{"a_long", std::string(1000, 'v')}});
  for (int i = 0; i < 100; ++i) results.add_outputs({{"key" + std::to_string(1000 + i), i}});
  for (int i = 0; i < 100; ++i) results.add_metric(metric("m" + std::to_string(i), "counter", i));
  const std::string summary = results.summary(200);
  INFO(summary);
  CHECK(summary.size() <= 240);
  CHECK(summary.starts_with(
      R"(outputs: a_long="vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv..., key1000=0, )"));
  CHECK(summary.find(" more; metrics: m0 (counter)=0, ") != std::string::npos);
  CHECK(summary.ends_with(" more"));
}

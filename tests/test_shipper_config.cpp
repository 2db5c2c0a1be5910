// ShipperConfig: Kestra's LogShipper properties with their defaults, YAML and JSON, Kestra's
// class names, and an error per bad property naming it.
#include "shipper/shipper_config.hpp"

#include "cli_process.hpp"

#include <catch2/catch.hpp>

using runner::shipper::load_shipper_config;
using runner::shipper::parse_shipper_config;
using runner::shipper::ShipperConfigError;
using runner::shipper::yaml_to_json;

TEST_CASE("shipper config defaults are Kestra's", "[shipper][config]") {
  const auto config = parse_shipper_config(yaml_to_json(R"(
logExporters:
  - id: files
    type: file
    path: /tmp/x
)"));
  REQUIRE(config.exporters.size() == 1);
  CHECK(config.exporters[0]["type"] == "file");
  CHECK(config.exporters[0]["path"] == "/tmp/x");
  CHECK(config.min_level == runner::logging::Level::info);
  CHECK(config.lookback == std::chrono::hours(24));
  CHECK_FALSE(config.namespace_name);
  CHECK(config.offset_key == "LogShipper-state");
  CHECK(config.state_key() == "LogShipper-state");
  CHECK(config.batch_size == 1000);
  CHECK_FALSE(config.delete_shipped);
}

TEST_CASE("shipper config reads every property from YAML", "[shipper][config]") {
  const auto config = parse_shipper_config(yaml_to_json(R"(
id: ship
type: io.kestra.plugin.ee.core.log.LogShipper
logLevelFilter: WARN
lookbackPeriod: PT6H
namespace: company.team
offsetKey: my-offset
batchSize: 50
delete: true
maxRetries: 1
retryDelay: PT0.1S
settlePeriod: PT0S
logExporters:
  - id: es
    type: io.kestra.plugin.ee.elasticsearch.LogExporter
    url: "http://localhost:9200"
    port: "12201"
)"));
  CHECK(config.min_level == runner::logging::Level::warning);
  CHECK(config.lookback == std::chrono::hours(6));
  CHECK(config.namespace_name == std::optional<std::string>("company.team"));
  CHECK(config.state_key() == "my-offset:company.team");
  CHECK(config.batch_size == 50);
  CHECK(config.delete_shipped);
  CHECK(config.max_retries == 1);
  CHECK(config.retry_delay == std::chrono::milliseconds(100));
  CHECK(config.settle == std::chrono::microseconds(0));
  CHECK(config.exporters[0]["type"] == "elasticsearch");
  CHECK(config.exporters[0]["port"] == "12201");  // quoted: stays a string
}

TEST_CASE("shipper config problems each name the property", "[shipper][config]") {
  try {
    parse_shipper_config(yaml_to_json(R"(
logLevelFilter: LOUD
lookbackPeriod: yesterday
batchSize: 0
delete: maybe
namespace: Not A Namespace
colour: blue
logExporters:
  - type: file
  - id: a
  - id: a
    type: file
)"));
    FAIL("expected ShipperConfigError");
  } catch (const ShipperConfigError& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p + "\n";
    CHECK_THAT(all, Catch::Contains("logLevelFilter: expected"));
    CHECK_THAT(all, Catch::Contains("lookbackPeriod: expected an ISO-8601 duration"));
    CHECK_THAT(all, Catch::Contains("batchSize: expected an integer"));
    CHECK_THAT(all, Catch::Contains("delete: expected true or false"));
    CHECK_THAT(all, Catch::Contains("namespace: expected lower-case"));
    CHECK_THAT(all, Catch::Contains("colour: unknown property"));
    CHECK_THAT(all, Catch::Contains("logExporters[0].id: required"));
    CHECK_THAT(all, Catch::Contains("logExporters[1].type: required"));
    CHECK_THAT(all, Catch::Contains("logExporters[2].id: \"a\" is used twice"));
  }
}

TEST_CASE("shipper config requires logExporters", "[shipper][config]") {
  CHECK_THROWS_WITH(parse_shipper_config(yaml_to_json("batchSize: 10\n")),
                    Catch::Contains("logExporters: required"));
  CHECK_THROWS_WITH(parse_shipper_config(yaml_to_json("logExporters: []\n")),
                    Catch::Contains("logExporters: expected a non-empty list"));
  CHECK_THROWS_WITH(yaml_to_json("logExporters: [unclosed\n"), Catch::Contains("not valid YAML"));
}

TEST_CASE("shipper config files in JSON and YAML", "[shipper][config]") {
  const auto json_path = runner_test::temp_file(
      R"({"logExporters":[{"id":"f","type":"file","path":"/tmp"}],"batchSize":7})", ".json");
  CHECK(load_shipper_config(json_path).batch_size == 7);
  const auto yaml_path = runner_test::temp_file(
      "logExporters:\n  - {id: f, type: file, path: /tmp}\nbatchSize: 9\n", ".yaml");
  CHECK(load_shipper_config(yaml_path).batch_size == 9);
}

// Issue 15: a whole Kestra flow file, as Kestra's documentation shows it, is accepted.
TEST_CASE("shipper config takes the LogShipper task of a whole Kestra flow file",
          "[shipper][config][flow]") {
  const auto config = parse_shipper_config(yaml_to_json(R"(
id: log_shipper
namespace: company.ops
description: ship every hour
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: starting
  - id: ship
    type: io.kestra.plugin.ee.core.log.LogShipper
    logLevelFilter: WARN
    namespace: company.team
    logExporters:
      - id: file
        type: io.kestra.plugin.ee.core.log.FileLogExporter
triggers:
  - id: webhook
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
  - id: hourly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
)"));
  REQUIRE(config.exporters.size() == 1);
  CHECK(config.exporters[0]["type"] == "file");
  CHECK(config.min_level == runner::logging::Level::warning);
  CHECK(config.namespace_name == "company.team");  // the task's filter, not the flow's namespace
  CHECK(config.schedule_cron == "0 * * * *");

  // No Schedule trigger: no cron; a task file alone has none either.
  CHECK_FALSE(parse_shipper_config(yaml_to_json(R"(
id: f
namespace: a
tasks:
  - id: ship
    type: io.kestra.plugin.ee.core.log.LogShipper
    logExporters: [{id: f, type: file, path: /tmp/x}]
)"))
                  .schedule_cron);
}

TEST_CASE("a flow file without exactly one LogShipper task, or with a bad cron, says so",
          "[shipper][config][flow]") {
  auto problems_of = [](const std::string& yaml) {
    try {
      (void)parse_shipper_config(yaml_to_json(yaml));
    } catch (const ShipperConfigError& e) {
      return e.problems();
    }
    return std::vector<std::string>{};
  };
  auto none = problems_of(
      "id: f\nnamespace: a\ntasks:\n  - id: l\n    type: io.kestra.plugin.core.log.Log\n");
  REQUIRE(none.size() == 1);
  CHECK_THAT(none[0], Catch::Contains("tasks: no task of type") &&
                          Catch::Contains("io.kestra.plugin.core.log.Log"));
  const std::string shipper_task =
      "  - id: s\n    type: io.kestra.plugin.ee.core.log.LogShipper\n"
      "    logExporters: [{id: f, type: file, path: /tmp/x}]\n";
  auto two = problems_of("id: f\nnamespace: a\ntasks:\n" + shipper_task + shipper_task);
  REQUIRE(two.size() == 1);
  CHECK_THAT(two[0], Catch::Contains("2 LogShipper tasks"));
  auto bad_cron =
      problems_of("id: f\nnamespace: a\ntasks:\n" + shipper_task +
                  "triggers:\n  - id: t\n    type: io.kestra.plugin.core.trigger.Schedule\n"
                  "    cron: \"61 * * * *\"\n");
  REQUIRE(bad_cron.size() == 1);
  CHECK_THAT(bad_cron[0], Catch::StartsWith("triggers[0].cron: minute: \"61\""));
  auto inner = problems_of(
      "id: f\nnamespace: a\ntasks:\n  - id: s\n    type: "
      "io.kestra.plugin.ee.core.log.LogShipper\n    batchSize: 0\n"
      "    logExporters: [{id: f, type: file}]\n");
  REQUIRE(inner.size() == 1);
  CHECK_THAT(inner[0], Catch::StartsWith("tasks (LogShipper): batchSize:"));
}

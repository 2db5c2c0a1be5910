// Processors and configuration rows of a component file (runner/component_stages.hpp): inline
// and file processors, the problems they can have (each naming its full path), rows, and
// Keboola's merge of a row's parameters over the configuration's.
#include "runner/component_stages.hpp"

#include "runner/errors.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using nlohmann::json;
using runner::ConfigError;
using runner::merge_parameters;
using runner::parse_component;

namespace {

json base() {
  return {{"id", "my.comp"}, {"image", "runner-busybox:latest"}};
}

std::vector<std::string> problems_of(const json& doc) {
  try {
    parse_component(doc);
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

bool has_line(const std::vector<std::string>& lines, const std::string& start) {
  for (const auto& line : lines)
    if (line.rfind(start, 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("processors are components of their own, in order", "[runner][component][processors]") {
  json doc = base();
  doc["processors"] = {
      {"before", {{{"image", "busybox:1.36"}, {"command", {"true"}}}}},
      {"after",
       {{{"id", "p.gzip"}, {"image", "runner-busybox:latest"}, {"parameters", {{"level", 9}}}},
        {{"image", "runner-busybox:latest"}, {"limits", {{"memory", "32m"}}}}}}};
  const auto spec = parse_component(doc);
  REQUIRE(spec.processors.before.size() == 1);
  REQUIRE(spec.processors.after.size() == 2);
  CHECK(spec.processors.before[0].id == "processor-before-1");  // a default id
  CHECK(spec.processors.before[0].image == "busybox:1.36");
  CHECK(spec.processors.after[0].id == "p.gzip");
  CHECK(spec.processors.after[0].parameters == json({{"level", 9}}));
  CHECK(spec.processors.after[1].limits.memory_bytes == 32LL * 1024 * 1024);
  CHECK(spec.processors.after[1].id == "processor-after-2");
  CHECK(spec.rows.empty());
}

TEST_CASE("bad processors name their full path", "[runner][component][processors]") {
  json doc = base();
  doc["processors"] = {{"after",
                        {{{"image", ""}},
                         {{"image", "x"}, {"processors", json::object()}},
                         {{"image", "x"}, {"action", "test"}, {"limits", {{"timeout", 5}}}},
                         "file.json",
                         7}},
                       {"during", json::array()}};
  const auto lines = problems_of(doc);
  CHECK(has_line(lines, "$.processors.during: unknown key"));
  CHECK(has_line(lines, "$.processors.after[0].image: expected a non-empty string"));
  CHECK(has_line(lines, "$.processors.after[1].processors: not allowed in a processor"));
  CHECK(has_line(lines, "$.processors.after[2].action: not allowed in a processor"));
  CHECK(has_line(lines, "$.processors.after[2].limits.timeout: not allowed in a processor"));
  CHECK(has_line(lines, "$.processors.after[3]: a path to a component file"));
  CHECK(has_line(lines, "$.processors.after[4]: expected a processor"));
  json not_object = base();
  not_object["processors"] = json::array();
  CHECK(has_line(problems_of(not_object), "$.processors: expected an object"));
}

TEST_CASE("processor files are read relative to the component file",
          "[runner][component][processors]") {
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() / ("stages-" + std::to_string(rd()));
  std::filesystem::create_directories(dir / "procs");
  {
    std::ofstream p(dir / "procs" / "gzip.json");
    p << R"({"id": "p.gzip", "image": "runner-busybox:latest", "command": ["gzip"]})";
    std::ofstream bad(dir / "bad.json");
    bad << R"({"id": "p.bad", "id": "twice"})";
  }
  json doc = base();
  doc["processors"] = {{"after", {"procs/gzip.json"}}};
  doc["rows"] = {{{"id", "r1"}, {"processors", {{"before", {"procs/gzip.json"}}}}}};
  const json inlined = runner::inline_processor_files(doc, dir);
  CHECK(inlined["processors"]["after"][0]["id"] == "p.gzip");
  CHECK(inlined["rows"][0]["processors"]["before"][0]["command"] == json({"gzip"}));
  const auto spec = parse_component(inlined);
  CHECK(spec.processors.after.at(0).command == std::vector<std::string>{"gzip"});
  CHECK(spec.rows.at(0).processors.before.at(0).id == "p.gzip");

  doc["processors"] = {{"after", {"missing.json", "bad.json"}}};
  try {
    runner::inline_processor_files(doc, dir);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.problems().size() == 2);
    CHECK(e.problems()[0].rfind("$.processors.after[0]: in the processor file", 0) == 0);
    CHECK(e.problems()[1].rfind("$.processors.after[1]: in the processor file", 0) == 0);
    CHECK(e.problems()[1].find("duplicate") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("rows: ids, disabled rows and their own processors", "[runner][component][rows]") {
  json doc = base();
  doc["rows"] = {{{"id", "orders"}, {"name", "Orders"}, {"parameters", {{"table", "orders"}}}},
                 {{"id", "items"},
                  {"is_disabled", true},
                  {"processors", {{"after", {{{"image", "runner-busybox:latest"}}}}}}}};
  const auto spec = parse_component(doc);
  REQUIRE(spec.rows.size() == 2);
  CHECK(spec.rows[0].id == "orders");
  CHECK(spec.rows[0].parameters == json({{"table", "orders"}}));
  CHECK_FALSE(spec.rows[0].disabled);
  CHECK_FALSE(spec.rows[0].has_after);
  CHECK(spec.rows[1].disabled);
  CHECK(spec.rows[1].has_after);
  CHECK_FALSE(spec.rows[1].has_before);
  CHECK(spec.rows[1].processors.after.size() == 1);

  doc["rows"] = {{{"id", "a b"}},
                 {{"id", "x"}, {"is_disabled", 1}, {"colour", "red"}},
                 {{"id", "x"}, {"parameters", {1, 2}}},
                 {{"processors", {{"after", {{{"image", 3}}}}}}},
                 "row"};
  const auto lines = problems_of(doc);
  CHECK(has_line(lines, "$.rows[0].id: expected letters, digits"));
  CHECK(has_line(lines, "$.rows[1].is_disabled: expected true or false, got 1"));
  CHECK(has_line(lines, "$.rows[1].colour: unknown key"));
  CHECK(has_line(lines, "$.rows[2].id: duplicate"));
  CHECK(has_line(lines, "$.rows[2].parameters: expected an object"));
  CHECK(has_line(lines, "$.rows[3].id: required"));
  CHECK(has_line(lines, "$.rows[3].processors.after[0].image: expected"));
  CHECK(has_line(lines, "$.rows[4]: expected a row"));
  json not_array = base();
  not_array["rows"] = {{"id", "a"}};
  CHECK(has_line(problems_of(not_array), "$.rows: expected an array"));
}

TEST_CASE("a row's parameters merge over the configuration's as Keboola merges them",
          "[runner][component][rows]") {
  const json config = {{"db", {{"host", "h"}, {"port", 1}}},
                       {"tables", {"a", "b", "c"}},
                       {"columns", {{{"name", "id"}, {"type", "int"}}}},
                       {"debug", false}};
  const json row = {{"db", {{"port", 2}}},
                    {"tables", {"x"}},
                    {"columns", {{{"type", "bigint"}}, {{"name", "extra"}}}},
                    {"debug", {{"level", 3}}},
                    {"new", true}};
  CHECK(merge_parameters(config, row) ==
        json({{"db", {{"host", "h"}, {"port", 2}}},
              {"tables", {"x", "b", "c"}},  // arrays index by index (array_replace_recursive)
              {"columns", {{{"name", "id"}, {"type", "bigint"}}, {{"name", "extra"}}}},
              {"debug", {{"level", 3}}},
              {"new", true}}));
  CHECK(merge_parameters(config, json::object()) == config);
  CHECK(merge_parameters(json::object(), row) == row);
}

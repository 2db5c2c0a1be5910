// read_yaml: YAML to JSON with aliases, depth and size bounded while reading. The issue's
// billion-laughs file reached 14.6 GB of RSS and `a: &a [*a]` segfaulted through YAML::Node.
#include "shipper/shipper_config.hpp"
#include "shipper/yaml_reader.hpp"

#include "cli_process.hpp"

#include <catch2/catch.hpp>

#include <string>

using nlohmann::json;
using runner::shipper::read_yaml;
using runner::shipper::YamlInputError;
using runner::shipper::YamlLimits;

namespace {
std::string refusal(const std::string& text, const YamlLimits& limits = {}) {
  try {
    read_yaml(text, limits);
  } catch (const YamlInputError& e) {
    return e.what();
  }
  FAIL("read_yaml accepted: " << text.substr(0, 80));
  return "";
}

std::string billion_laughs(const std::string& under) {
  std::string text =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  const std::string names = "abcdefghi";
  for (std::size_t i = 1; i < names.size(); ++i) {
    text += std::string(1, names[i]) + ": &" + names[i] + " [";
    for (int k = 0; k < 9; ++k) text += std::string(k ? "," : "") + "*" + names[i - 1];
    text += "]\n";
  }
  return text + under + ": *i\n";
}
}  // namespace

TEST_CASE("YAML scalars, sequences, mappings and aliases become JSON", "[shipper][yaml]") {
  const json doc = read_yaml(R"(
base: &base {type: file, path: /tmp}
logExporters:
  - *base
  - {id: b, type: "file"}
flags: [true, False, ~, null, 12, -3, 1.5, .5, "12", '007', +4, 1e3, 99999999999999999999]
empty:
)");
  CHECK(doc["logExporters"][0] == json({{"type", "file"}, {"path", "/tmp"}}));
  CHECK(doc["logExporters"][1]["type"] == "file");
  CHECK(doc["flags"] ==
        json::parse(
            R"([true,false,null,null,12,-3,1.5,0.5,"12","007",4,"1e3","99999999999999999999"])"));
  CHECK(doc["empty"].is_null());
  CHECK(read_yaml("").is_null());
  CHECK(read_yaml("just text") == "just text");
}

TEST_CASE("a billion laughs is refused after a bounded amount of work", "[shipper][yaml]") {
  for (const char* under : {"x", "logExporters"}) {
    const std::string message = refusal(billion_laughs(under));
    CHECK_THAT(message, Catch::Contains("would expand the document past 100000 values"));
  }
  // Aliases within the limits are expanded as usual.
  YamlLimits small;
  small.max_nodes = 50;
  CHECK_THAT(refusal("a: &a [1,2,3,4,5,6,7,8,9]\nb: [*a,*a,*a,*a,*a,*a]\n", small),
             Catch::Contains("alias *a would expand"));
  CHECK(read_yaml("a: &a [1,2]\nb: [*a,*a]\n")["b"] == json::parse("[[1,2],[1,2]]"));
}

TEST_CASE("an alias inside the node it names is a cycle, refused", "[shipper][yaml]") {
  CHECK_THAT(refusal("a: &a [*a]\n"),
             Catch::Contains("a[0]: alias *a is used inside the node it names: a cycle") &&
                 Catch::Contains("line 1"));
  CHECK_THAT(refusal("a: &a {b: {c: *a}}\n"), Catch::Contains("a.b.c: alias *a"));
}

TEST_CASE("nesting, size, duplicate keys and extra documents are refused", "[shipper][yaml]") {
  CHECK_THAT(refusal("logExporters: " + std::string(100000, '[') + std::string(100000, ']')),
             Catch::Contains("nested deeper than 64 levels"));
  std::string block = "logExporters:\n";
  for (int i = 0; i < 500; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "- \n";
  CHECK_THAT(refusal(block), Catch::Contains("nested deeper than 64 levels"));
  CHECK_THAT(refusal(std::string(2 * 1024 * 1024, '#')),
             Catch::Contains("bytes, more than the limit of 1048576"));
  CHECK_THAT(refusal("batchSize: 10\nbatchSize: 20\n"),
             Catch::Contains("duplicate key \"batchSize\"") && Catch::Contains("line 2"));
  CHECK_THAT(refusal("a: 1\n---\nb: 2\n"), Catch::Contains("expected one YAML document"));
  CHECK_THAT(refusal("? [a, b]\n: 1\n"), Catch::Contains("a key must be a plain value"));
  CHECK_THAT(refusal("x: 1.0e99999\n"), Catch::Contains("x: number out of range: 1.0e99999"));
}

TEST_CASE("runner ship exits 65 on hostile configs, bounded", "[shipper][yaml][cli]") {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {billion_laughs("logExporters"), "would expand the document"},
           {"a: &a [*a]\n", "a cycle"},
           {"logExporters: " + std::string(5000, '[') + std::string(5000, ']'), "nested deeper"}}) {
    const auto path = runner_test::temp_file(text, ".yaml");
    const auto r = runner_test::run_cli({"ship", "--config", path, "--store", "none"});
    CHECK(r.exit_code == 65);
    CHECK_THAT(r.err, Catch::Contains(expected));
  }
  const auto json_path = runner_test::temp_file(
      R"({"logExporters":[{"id":"f","type":"file"}],"batchSize":1,"batchSize":2})", ".json");
  const auto r = runner_test::run_cli({"ship", "--config", json_path, "--store", "none"});
  CHECK(r.exit_code == 65);
  CHECK_THAT(r.err, Catch::Contains("$.batchSize: duplicate key"));
}

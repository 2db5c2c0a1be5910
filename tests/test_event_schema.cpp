// One event schema (docs/events.md, "Schema"): every JSON writer runner has (--events, logs
// --json, the file exporter, show --json, jobs --json) checked against the table in the docs,
// read from the file itself, so the documentation and the writers cannot drift apart. A real
// job runs (stdout, stderr, a Kestra output and metric) into a temporary SQLite store; its events
// are then shipped by the file exporter.
#include "cli_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;

namespace {

struct Field {
  std::string type;
  bool nullable = false;
  std::set<std::string> always;  // writers that always write it
};
using Schema = std::map<std::string, std::map<std::string, Field>>;  // object -> field -> rule

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Schema read_schema() {
  const std::string doc = runner_test::read_file(RUNNER_SOURCE_DIR "/docs/events.md");
  const auto begin = doc.find("<!-- schema:begin -->");
  const auto end = doc.find("<!-- schema:end -->");
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  Schema schema;
  std::istringstream in(doc.substr(begin, end - begin));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| event ", 0) != 0 && line.rfind("| job ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(cell);
    REQUIRE(cells.size() >= 5);
    Field f;
    f.type = words(cells[2]).at(0);
    f.nullable = words(cells[3]).at(0) == "yes";
    for (const auto& w : words(cells[4]))
      if (w != "-") f.always.insert(w);
    schema[words(cells[0]).at(0)][words(cells[1]).at(0)] = f;
  }
  REQUIRE(schema.count("event") == 1);
  REQUIRE(schema.count("job") == 1);
  return schema;
}

bool has_type(const json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "boolean") return value.is_boolean();
  return false;
}

void check_object(const Schema& schema, const std::string& object, const std::string& writer,
                  const json& value) {
  INFO(writer << " wrote " << value.dump());
  REQUIRE(value.is_object());
  const auto& fields = schema.at(object);
  for (const auto& [name, field_value] : value.items()) {
    INFO("field " << name);
    const auto rule = fields.find(name);
    CHECK(rule != fields.end());  // no name outside the schema
    if (rule == fields.end()) continue;
    if (field_value.is_null())
      CHECK(rule->second.nullable);
    else
      CHECK(has_type(field_value, rule->second.type));
  }
  for (const auto& [name, rule] : fields) {
    INFO("field " << name << " must be written by " << writer);
    if (rule.always.count(writer) != 0) CHECK(value.contains(name));
  }
}

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("every JSON writer follows the one schema of docs/events.md", "[e2e][schema]") {
  const Schema schema = read_schema();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("runner-schema-" + std::to_string(std::random_device{}() % 1000000));
  std::filesystem::create_directories(dir);
  const std::string store = "sqlite:" + (dir / "runner.db").string();
  const std::string events = (dir / "events.jsonl").string();
  const std::string script =
      "echo plain; echo '::{\"outputs\":{\"rows\":3}}::'; "
      "echo '::{\"metrics\":[{\"name\":\"n\",\"type\":\"counter\",\"value\":1}]}::'; "
      "echo oops >&2; exit 0";
  const std::string component = temp_file(json{
      {"id", "test.schema"},
      {"namespace", "schema.check"},
      {"image", "runner-busybox:latest"},
      {"command", {"sh", "-c", script}}}.dump());
  REQUIRE(run_cli({"run", component, "--store", store, "--events", events}).exit_code == 0);

  std::string job;
  bool saw_event = false, saw_result = false;
  for (const json& line : runner_test::read_json_lines(events)) {
    if (line["kind"] == "event") {
      check_object(schema, "event", "events", line);
      saw_event = true;
    } else if (line["kind"] == "result") {
      check_object(schema, "job", "result", line);
      job = line["job_id"];
      saw_result = true;
    }
  }
  REQUIRE(saw_event);
  REQUIRE(saw_result);

  const auto logged = lines_of(run_cli({"logs", job, "--store", store, "--json"}).out);
  REQUIRE_FALSE(logged.empty());
  for (const json& e : logged) check_object(schema, "event", "logs", e);
  const auto shown = run_cli({"show", job, "--store", store, "--json"});
  REQUIRE(shown.exit_code == 0);
  check_object(schema, "job", "show", json::parse(shown.out));
  const auto listed = lines_of(run_cli({"jobs", "--store", store, "--json"}).out);
  REQUIRE(listed.size() == 1);
  check_object(schema, "job", "jobs", listed[0]);

  const auto folder = dir / "shipped";
  const std::string config =
      temp_file("logExporters:\n  - id: f\n    type: file\n    path: " + folder.string() +
                    "\nnamespace: schema.check\nlogLevelFilter: DEBUG\nsettlePeriod: PT0S\n",
                ".yaml");
  REQUIRE(run_cli({"ship", "--config", config, "--store", store}).exit_code == 0);
  std::size_t shipped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    for (const json& e : lines_of(runner_test::read_file(entry.path()))) {
      check_object(schema, "event", "file", e);
      ++shipped;
    }
  CHECK(shipped == logged.size());
  std::filesystem::remove_all(dir);
}

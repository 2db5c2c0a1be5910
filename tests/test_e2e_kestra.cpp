// End-to-end Kestra protocol: the real @kestra-io/libs (npm) inside runner-node:latest (mmdebstrap
// bookworm + nodejs, scripts/build-images.sh), and a shell component echoing the seed documents'
// examples. Checks events, output/metric records, the result and --outputs; a block left open
// is given back after 1 s idle; the protocol in GELF logging mode.
#include "cli_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>

using nlohmann::json;
using runner_test::read_file;
using runner_test::run_cli;
using runner_test::temp_file;

namespace {

struct Run {
  int exit_code;
  std::string terminal;
  std::vector<json> records;
  json result;
  json outputs_file;
};

Run run(const json& doc) {
  const std::string events = temp_file("", ".jsonl");
  const std::string outputs = temp_file("", ".json");
  auto r = run_cli({"run", temp_file(doc.dump()), "--events", events, "--outputs", outputs});
  Run out{r.exit_code, r.out, {}, json(), json()};
  out.records = runner_test::read_json_lines(events);
  if (!out.records.empty()) out.result = out.records.back();
  out.outputs_file = json::parse(read_file(outputs), nullptr, false);
  std::filesystem::remove(events);
  std::filesystem::remove(outputs);
  return out;
}

std::vector<json> select(const std::vector<json>& records, const std::string& kind,
                         const std::string& source = "") {
  std::vector<json> out;
  for (const auto& r : records)
    if (r["kind"] == kind && (source.empty() || r.value("source", "") == source)) out.push_back(r);
  return out;
}

}  // namespace

TEST_CASE("a Node component using @kestra-io/libs reports logs, outputs and metrics",
          "[e2e][kestra]") {
  const std::string script = R"(
const Kestra = require('@kestra-io/libs');
const logger = Kestra.logger();
logger.debug('debug message');
logger.info('info message');
logger.warn('warn message');
logger.error('error message');
logger.info('line\u2028separator');
Kestra.outputs({rows: 42, name: 'orders'});
Kestra.outputs({name: 'orders-v2', nested: {a: [1, 2]}});
Kestra.counter('rows', 5, {partition: 'a'});
Kestra.counter('rows', 7, {partition: 'a'});
Kestra.counter('rows', 1, {partition: 'b'});
Kestra.timer('load', 1.5, {partition: 'a'});
Kestra.timer('load', 0.25, {partition: 'a'});
Kestra.gauge('queue', 3);
Kestra.gauge('queue', 9);
console.log('an ordinary line');
)";
  auto r = run({{"id", "test.kestra-node"},
                {"image", "runner-node:latest"},
                {"command", {"node", "-e", script}}});
  REQUIRE(r.exit_code == 0);
  // The library prints warn and error to stderr, the rest to stdout: two pipes, so the order
  // across them is not defined. Look entries up by message.
  const auto logs = select(r.records, "event", "kestra");
  REQUIRE(logs.size() == 5);
  auto level_of = [&](const std::string& message) {
    for (const auto& e : logs)
      if (e["message"] == message) return e["level"].get<std::string>();
    return std::string("missing");
  };
  CHECK(level_of("debug message") == "debug");
  CHECK(level_of("info message") == "info");
  CHECK(level_of("warn message") == "warning");
  CHECK(level_of("error message") == "error");
  CHECK(level_of("line\u2028separator") == "info");
  const auto text = select(r.records, "event", "stdout");
  REQUIRE(text.size() == 1);
  CHECK(text[0]["message"] == "an ordinary line");
  CHECK(select(r.records, "event", "stderr").empty());  // protocol lines on stderr are not errors
  CHECK(select(r.records, "output").size() == 4);
  CHECK(select(r.records, "metric").size() == 7);

  const json expected_outputs = {{"rows", 42}, {"name", "orders-v2"}, {"nested", {{"a", {1, 2}}}}};
  CHECK(r.result["outputs"] == expected_outputs);
  CHECK(r.outputs_file["outputs"] == expected_outputs);
  const json& metrics = r.result["metrics"];
  REQUIRE(metrics.size() == 4);
  CHECK(metrics[0]["name"] == "rows");
  CHECK(metrics[0]["tags"] == json{{"partition", "a"}});
  CHECK(metrics[0]["value"].get<double>() == 12);
  CHECK(metrics[1]["tags"] == json{{"partition", "b"}});
  CHECK(metrics[1]["value"].get<double>() == 1);
  CHECK(metrics[2]["type"] == "timer");
  CHECK(metrics[2]["value"].get<double>() == Approx(1.75));
  CHECK(metrics[3]["type"] == "gauge");
  CHECK(metrics[3]["value"].get<double>() == 9);
  CHECK(r.outputs_file["metrics"] == metrics);
  CHECK_THAT(r.terminal, Catch::Contains("outputs: "));
  CHECK(r.terminal.find("::{") == std::string::npos);
}

TEST_CASE("the seed documents' shell examples: single-line, bare and multi-line forms",
          "[e2e][kestra]") {
  const std::string script = R"(
echo '::{"outputs":{"test":"value","int":2,"bool":true,"float":3.65}}::'
echo '::{"metrics":[{"name":"count","type":"counter","value":1,"tags":{"tag1":"i","tag2":"win"}}]}::'
echo '::{"metrics":[{"name":"time","type":"timer","value":2.12,"tags":{"tag1":"i","tag2":"destroy"}}]}::'
echo '{"outputs": {"bare": "yes"}}'
echo '{"user": "not protocol"}'
echo '::{'
echo '  "logs": [{"level": "WARN", "message": "from a block"}],'
echo '  "metrics": [{"name": "time", "type": "timer", "value": "PT1.5S", "tags": {"tag1": "i", "tag2": "destroy"}}]'
echo '}::'
echo '::{"logs": [{"level": "ERROR", "message": "python spacing on stderr"}]}::' >&2
echo '::{"metrics":[{"name":"x","type":"histogram","value":1}]}::'
echo 'real error text' >&2
exit 1
)";
  auto r = run({{"id", "test.kestra-shell"},
                {"image", "runner-busybox:latest"},
                {"command", {"sh", "-c", script}}});
  CHECK(r.exit_code == 1);
  CHECK(r.result["outputs"] ==
        json{{"test", "value"}, {"int", 2}, {"bool", true}, {"float", 3.65}, {"bare", "yes"}});
  const json& metrics = r.result["metrics"];
  REQUIRE(metrics.size() == 2);
  CHECK(metrics[1]["name"] == "time");
  CHECK(metrics[1]["value"].get<double>() == Approx(3.62));
  // stdout and stderr are separate pipes: order across them is not defined, so look up by text.
  const auto kestra = select(r.records, "event", "kestra");
  REQUIRE(kestra.size() == 3);
  auto find = [&](const std::string& needle) {
    for (const auto& e : kestra)
      if (e["message"].get<std::string>().find(needle) != std::string::npos) return e;
    return json();
  };
  CHECK(find("from a block")["level"] == "warning");
  CHECK(find("python spacing on stderr")["level"] == "error");
  const json warning = find("histogram");
  CHECK(warning["level"] == "warning");
  CHECK(warning["fields"]["line"] ==
        R"(::{"metrics":[{"name":"x","type":"histogram","value":1}]}::)");
  const auto text = select(r.records, "event", "stdout");
  REQUIRE(text.size() == 1);
  CHECK(text[0]["message"] == R"({"user": "not protocol"})");
  // A failed job still reports its outputs, and its error message is the non-protocol stderr.
  CHECK(r.result["message"] == "real error text");
  CHECK(r.outputs_file["outputs"]["bare"] == "yes");
}

TEST_CASE("secrets inside outputs and metric tags are hidden", "[e2e][kestra][secrets]") {
  const std::string script =
      R"(echo '::{"outputs":{"dsn":"postgres://bob:Sup3rS3cret@db/x"},"metrics":[{"name":"m","type":"counter","value":1,"tags":{"who":"Sup3rS3cret"}}]}::')";
  auto r = run({{"id", "test.kestra-secret"},
                {"image", "runner-busybox:latest"},
                {"command", {"sh", "-c", script}},
                {"parameters", {{"#password", "Sup3rS3cret"}}}});
  REQUIRE(r.exit_code == 0);
  CHECK(r.result["outputs"]["dsn"] == "postgres://bob:[hidden]@db/x");
  CHECK(r.result["metrics"][0]["tags"]["who"] == "[hidden]");
  for (const auto& rec : r.records) CHECK(rec.dump().find("Sup3rS3cret") == std::string::npos);
  CHECK(r.outputs_file.dump().find("Sup3rS3cret") == std::string::npos);
}

TEST_CASE("structured values are masked once decoded: a secret number, a secret behind an escape",
          "[e2e][kestra][secrets]") {
  // The two leaks of issue 12: "#pin": "12345678" used to turn the line into invalid JSON, losing
  // `s` too; "Kestra\u0053ekrit6q" reached --events and --outputs in clear.
  const std::string script =
      R"(echo '::{"outputs":{"n":12345678,"s":"x"}}::'; )"
      R"(echo '::{"outputs":{"esc":"Kestra\u0053ekrit6q"}}::'; )"
      R"(echo '::{"metrics":[{"name":"m","type":"counter","value":1,"tags":{"t":"Kestra\u0053ekrit6q"}}]}::'; )"
      R"(echo 'plain 12345678 KestraSekrit6q')";
  auto r = run({{"id", "test.kestra-masking"},
                {"image", "runner-busybox:latest"},
                {"command", {"sh", "-c", script}},
                {"parameters", {{"#pin", "12345678"}, {"#token", "KestraSekrit6q"}}}});
  REQUIRE(r.exit_code == 0);
  const json expected = {{"n", "[hidden]"}, {"s", "x"}, {"esc", "[hidden]"}};
  CHECK(r.result["outputs"] == expected);
  CHECK(r.outputs_file["outputs"] == expected);
  CHECK(r.result["metrics"][0]["tags"]["t"] == "[hidden]");
  for (const auto& rec : r.records)
    CHECK(rec.value("source", "") != "kestra");  // no warning: every line stayed valid
  const auto text = select(r.records, "event", "stdout");
  REQUIRE(text.size() == 1);
  CHECK(text[0]["message"] == "plain [hidden] [hidden]");
  for (const auto& secret : {"12345678", "KestraSekrit6q", "ekrit6q"}) {
    INFO(secret);
    for (const auto& rec : r.records) CHECK(rec.dump().find(secret) == std::string::npos);
    CHECK(r.outputs_file.dump().find(secret) == std::string::npos);
    CHECK(r.terminal.find(secret) == std::string::npos);
  }
}

namespace {

double epoch_seconds(const json& record) {
  const std::string t = record["time"];
  std::tm tm{};
  REQUIRE(strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  return static_cast<double>(timegm(&tm)) + std::stod(t.substr(19, 7));
}

}  // namespace

TEST_CASE("an unclosed multi-line block is given back as ordinary lines after 1 s idle",
          "[e2e][kestra]") {
  // A stray "::{" must not stall the output until the next line or the end of the stream.
  const std::string script = R"(
echo '::{'
echo '  "logs": ['
sleep 3
echo 'after the pause'
)";
  auto r = run({{"id", "test.kestra-idle"},
                {"image", "runner-busybox:latest"},
                {"command", {"sh", "-c", script}}});
  REQUIRE(r.exit_code == 0);
  const auto lines = select(r.records, "event", "stdout");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["message"] == "::{");
  CHECK(lines[1]["message"] == R"(  "logs": [)");
  CHECK(lines[2]["message"] == "after the pause");
  // Given back while the component slept, not when its next line came.
  CHECK(epoch_seconds(lines[2]) - epoch_seconds(lines[1]) > 1.0);
  // Nothing was taken for protocol: one warning says the lines were given back (issue 15).
  const auto warnings = select(r.records, "event", "kestra");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0]["level"] == "warning");
  CHECK_THAT(warnings[0]["message"].get<std::string>(),
             Catch::StartsWith("Invalid Kestra protocol block (2 lines): not closed"));
  CHECK(r.result["outputs"] == json::object());
}

TEST_CASE("the Kestra protocol works in GELF mode too", "[e2e][kestra][gelf]") {
  const std::string gelf = R"({"version":"1.1","host":"c","short_message":"over gelf","level":6})";
  const std::string script =
      R"(echo '::{"outputs":{"rows":5}}::'; )"
      R"(echo '::{"logs":[{"level":"WARN","message":"from the protocol"}]}::'; )"
      R"(echo '::{"metrics":[{"name":"n","type":"counter","value":2}]}::' >&2; )"
      "echo plain; printf '" +
      gelf + R"(\0' | nc $KBC_LOGGER_ADDR $KBC_LOGGER_PORT)";
  auto r = run({{"id", "test.kestra-gelf"},
                {"image", "runner-busybox:latest"},
                {"logging", {{"type", "gelf"}}},
                {"command", {"sh", "-c", script}}});
  REQUIRE(r.exit_code == 0);
  CHECK(r.result["outputs"] == json{{"rows", 5}});
  REQUIRE(r.result["metrics"].size() == 1);
  CHECK(r.result["metrics"][0]["name"] == "n");
  CHECK(r.outputs_file["outputs"] == json{{"rows", 5}});
  const auto kestra = select(r.records, "event", "kestra");
  REQUIRE(kestra.size() == 1);
  CHECK(kestra[0]["message"] == "from the protocol");
  CHECK(kestra[0]["level"] == "warning");
  // stdout is reported once after the exit (GELF mode), without the protocol lines.
  const auto out = select(r.records, "event", "stdout");
  REQUIRE(out.size() == 1);
  CHECK(out[0]["message"] == "plain");
  CHECK(out[0]["seq"].get<int>() > kestra[0]["seq"].get<int>());  // the protocol was live
  CHECK(select(r.records, "event", "stderr").empty());
  const auto gelf_events = select(r.records, "event", "gelf");
  REQUIRE(gelf_events.size() == 1);
  CHECK(gelf_events[0]["message"] == "over gelf");
  CHECK(select(r.records, "output").size() == 1);
  CHECK(select(r.records, "metric").size() == 1);
}

// Issue 15: the current @kestra-io/libs (2.x) has Kestra.assets(); it and the library's other
// calls (the timer's callback form, logger().trace) against the parser, through the real library.
TEST_CASE("Kestra.assets() and the rest of @kestra-io/libs reach the result", "[e2e][kestra]") {
  const std::string script = R"(
const Kestra = require('@kestra-io/libs');
Kestra.assets([{id: 'orders', type: 'io.kestra.plugin.ee.assets.Table', metadata: {rows: 42}}]);
Kestra.assets({id: 'vm-1', type: 'vm'});
Kestra.timer('callback', (done) => done());
Kestra.logger().trace('trace message');
)";
  auto r = run({{"id", "test.kestra-assets"},
                {"image", "runner-node:latest"},
                {"command", {"node", "-e", script}}});
  REQUIRE(r.exit_code == 0);
  const json expected = json::array({{{"id", "orders"},
                                      {"type", "io.kestra.plugin.ee.assets.Table"},
                                      {"metadata", {{"rows", 42}}}},
                                     {{"id", "vm-1"}, {"type", "vm"}}});
  CHECK(r.result["assets"] == expected);
  CHECK(r.outputs_file["assets"] == expected);
  for (const auto& e : select(r.records, "event", "kestra"))
    CHECK_THAT(e["message"].get<std::string>(), !Catch::Contains("unknown key"));
  REQUIRE(r.result["metrics"].size() == 1);
  CHECK(r.result["metrics"][0]["name"] == "callback");
  CHECK(r.result["metrics"][0]["type"] == "timer");
  // logger().trace() goes through console.trace, which prints "Trace: " before the line and a
  // stack after it on stderr: no protocol line (nor in Kestra, whose pattern is anchored), so
  // it is stderr text.
  const auto errors = select(r.records, "event", "stderr");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0]["message"].get<std::string>(), Catch::StartsWith("Trace: ::{"));
}

// Issue 15: a component that prints such JSON of its own turns the protocol off in its file.
TEST_CASE("logging.kestra_protocol false makes protocol lines ordinary output", "[e2e][kestra]") {
  auto r = run(
      {{"id", "test.kestra-off"},
       {"image", "runner-busybox:latest"},
       {"logging", {{"kestra_protocol", false}}},
       {"command", {"sh", "-c", R"(echo '::{"outputs":{"a":1}}::'; echo '{"outputs":{"b":2}}')"}}});
  REQUIRE(r.exit_code == 0);
  const auto lines = select(r.records, "event", "stdout");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["message"] == R"(::{"outputs":{"a":1}}::)");
  CHECK(lines[1]["message"] == R"({"outputs":{"b":2}})");
  CHECK(r.result["outputs"] == json::object());
  CHECK(select(r.records, "event", "kestra").empty());
  // Anything but a boolean is refused, naming the field.
  const auto bad = run_cli({"run", temp_file(json{{"id", "test.kestra-off"},
                                                  {"image", "runner-busybox:latest"},
                                                  {"logging", {{"kestra_protocol", "no"}}}}
                                                 .dump())});
  CHECK(bad.exit_code == 65);
  CHECK_THAT(bad.err,
             Catch::Contains("$.logging.kestra_protocol") && Catch::Contains("true or false"));
}

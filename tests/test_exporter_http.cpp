// Tests of the HTTP exporters (Elasticsearch/OpenSearch, OpenTelemetry, Datadog, Loki) against
// HttpReceiver, a real HTTP/1.1 server on loopback (no vendor server can be installed here). Each
// test parses what arrived and checks it against the vendor's documented format: the Bulk API's
// action/document pairs, OTLP/HTTP JSON (64-bit integers as strings, enums as numbers),
// Datadog's intake (DD-API-KEY, at most 1000 logs and 5 MB per request), Loki's push API
// (nanosecond timestamps as strings, in order per stream, low-cardinality labels). Also: answers
// that are not 2xx, Elasticsearch's `errors:true`, partial OTLP success and refused connections
// are ExportErrors naming the exporter, with credentials (from the environment or RUNNER::ENC::)
// never in the text, and batches reuse one connection.
#include <catch2/catch.hpp>
#include "cli_process.hpp"
#include "exporter_test_support.hpp"

#include "http_receiver.hpp"
#include "secrets/config_cipher.hpp"
#include "secrets/encoding.hpp"
#include "shipper/log_exporter.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using nlohmann::json;
using runner::logging::Level;
using runner::shipper::ExportError;
using runner::shipper::KeyLookup;
using runner::shipper::make_exporter;
using runner::shipper::ShippedEvent;
using runner_test::HttpReceiver;
using runner_test::HttpReply;
using runner_test::HttpRequest;

namespace {

using runner_test::kNoKey;
using runner_test::ScopedEnv;

using runner_test::shipped_event;

std::vector<ShippedEvent> events(std::uint64_t first, std::uint64_t count) {
  std::vector<ShippedEvent> out;
  for (std::uint64_t i = first; i < first + count; ++i)
    out.push_back(shipped_event(i, "line " + std::to_string(i)));
  return out;
}

// A batch with every level, a message needing escapes, fields, two jobs and two sources.
std::vector<ShippedEvent> mixed_batch() {
  return {shipped_event(1, "started"),
          shipped_event(2, "quote \" and \\ and\nnewline \xc3\xa9", Level::warning,
                        R"({"rows":5,"ok":true,"ratio":0.5,"table":"in.c-main.x","tags":["a","b"],)"
                        R"("none":null})"),
          shipped_event(3, "failed", Level::error, "", "stderr"),
          shipped_event(4, "other job", Level::debug, "", "stdout", "0190c2a4-job-b"),
          shipped_event(5, "the end", Level::emergency, "", "runner", "0190c2a4-job-a", "team")};
}

std::string export_error(runner::shipper::LogExporter& exporter,
                         const std::vector<ShippedEvent>& batch) {
  try {
    exporter.send(batch);
  } catch (const ExportError& e) {
    return e.what();
  }
  FAIL("send() did not throw ExportError");
  return {};
}

std::vector<json> ndjson(const std::string& body) {
  std::vector<json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

std::string basic_auth(const std::string& user, const std::string& password) {
  return "Basic " + runner::secrets::base64_encode(user + ":" + password);
}

std::string ns_string(const ShippedEvent& e) {
  return std::to_string(e.event.time.time_since_epoch().count() * 1000);
}

// attributes [{"key":k,"value":{...}}] -> {k: value}
json otel_attributes(const json& list) {
  json out = json::object();
  for (const json& kv : list) out[kv.at("key").get<std::string>()] = kv.at("value");
  return out;
}

}  // namespace

// --- Elasticsearch ---------------------------------------------------------------------------

TEST_CASE("elasticsearch exporter sends bulk pairs with the event id as _id",
          "[shipper][exporter]") {
  HttpReceiver es(HttpReply{200, R"({"took":3,"errors":false,"items":[]})"});
  ScopedEnv password("RUNNER_TEST_ES_PASSWORD", "es-pass-4711");
  auto exporter = make_exporter({{"id", "es"},
                                 {"type", "elasticsearch"},
                                 {"url", es.url() + "/"},
                                 {"index", "runner-logs-test"},
                                 {"username", "elastic"},
                                 {"password", "${RUNNER_TEST_ES_PASSWORD}"}},
                                "logExporters[0]", kNoKey);
  const auto batch = mixed_batch();
  exporter->send(batch);
  exporter->send(events(10, 3));

  const auto requests = es.requests();
  REQUIRE(requests.size() == 2);
  CHECK(es.connections() == 1);  // keep-alive across batches
  const HttpRequest& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/_bulk");
  CHECK(r.header("Content-Type") == "application/x-ndjson");
  CHECK(r.header("Authorization") == basic_auth("elastic", "es-pass-4711"));
  REQUIRE(!r.body.empty());
  CHECK(r.body.back() == '\n');  // the Bulk API needs the final newline
  const auto lines = ndjson(r.body);
  REQUIRE(lines.size() == 2 * batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& e = batch[i].event;
    const json& action = lines[2 * i];
    const json& doc = lines[2 * i + 1];
    INFO(action.dump() << "\n" << doc.dump());
    REQUIRE(action.size() == 1);
    CHECK(action["index"]["_index"] == "runner-logs-test");
    CHECK(action["index"]["_id"] == e.id());
    CHECK(doc["@timestamp"] == runner::logging::format_time(e.time));
    CHECK(doc["message"] == e.message);
    CHECK(doc["level"] == std::string(runner::logging::level_name(e.level)));
    CHECK(doc["source"] == e.source);
    CHECK(doc["event_id"] == e.id());
    CHECK(doc["job_id"] == e.job_id);
    CHECK(doc["seq"] == e.sequence);
    CHECK(doc["namespace"] == batch[i].namespace_name);
    CHECK(doc["component_id"] == "keboola.ex-db");
    CHECK(doc.contains("fields") == !e.fields.empty());
  }
  CHECK(lines[3]["fields"] == json::parse(batch[1].event.fields));
  CHECK(ndjson(requests[1].body).size() == 6);
}

TEST_CASE("elasticsearch exporter fails on errors true naming the count and the first reason",
          "[shipper][exporter]") {
  HttpReceiver es;
  const json answer = {
      {"took", 5},
      {"errors", true},
      {"items",
       {{{"index", {{"_index", "runner-logs"}, {"_id", "a-1"}, {"status", 201}}}},
        {{"index",
          {{"_index", "runner-logs"},
           {"_id", "0190c2a4-job-a-000000000002"},
           {"status", 400},
           {"error",
            {{"type", "mapper_parsing_exception"},
             {"reason", "failed to parse field [fields.rows] of type [long]"}}}}}},
        {{"index",
          {{"_index", "runner-logs"},
           {"_id", "a-3"},
           {"status", 429},
           {"error", {{"type", "es_rejected_execution_exception"}, {"reason", "queue full"}}}}}}}}};
  es.queue_reply(HttpReply{200, answer.dump()});
  es.queue_reply(HttpReply{200, R"({"errors":false,"items":[]})"});
  const auto key = runner::secrets::generate_key();
  const std::string api_key = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
  auto exporter = make_exporter({{"id", "search"},
                                 {"type", "opensearch"},
                                 {"url", es.url()},
                                 {"apiKey", runner::secrets::encrypt_value(key, api_key)}},
                                "logExporters[1]", [&] { return std::optional(key); });
  const auto batch = events(1, 3);
  const std::string message = export_error(*exporter, batch);
  INFO(message);
  CHECK(message.find("opensearch exporter \"search\"") != std::string::npos);
  CHECK(message.find("2 of 3 documents failed") != std::string::npos);
  CHECK(message.find("mapper_parsing_exception") != std::string::npos);
  CHECK(message.find("failed to parse field [fields.rows]") != std::string::npos);
  CHECK(message.find("0190c2a4-job-a-000000000002") != std::string::npos);
  CHECK(message.find(api_key) == std::string::npos);
  // The shipper retries the same batch: now accepted, same ids again.
  exporter->send(batch);
  const auto requests = es.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("Authorization") == "ApiKey " + api_key);
  CHECK(requests[0].body == requests[1].body);
}

TEST_CASE("elasticsearch exporter fails on HTTP errors and answers that are not bulk answers",
          "[shipper][exporter]") {
  HttpReceiver es;
  es.queue_reply(HttpReply{500, R"({"error":"boom"})"});
  es.queue_reply(HttpReply{200, "<html>proxy</html>", "text/html"});
  es.queue_reply(HttpReply{401, R"({"error":"bad credentials for elastic:hunter2-pw"})"});
  auto exporter = make_exporter({{"id", "es"},
                                 {"type", "elasticsearch"},
                                 {"url", es.url()},
                                 {"username", "elastic"},
                                 {"password", "hunter2-pw"}},
                                "logExporters[0]", kNoKey);
  const std::string first = export_error(*exporter, events(1, 2));
  CHECK(first.find("elasticsearch exporter \"es\"") != std::string::npos);
  CHECK(first.find("HTTP 500") != std::string::npos);
  CHECK(first.find(es.url() + "/_bulk") != std::string::npos);
  const std::string second = export_error(*exporter, events(1, 2));
  CHECK(second.find("not a bulk response") != std::string::npos);
  const std::string third = export_error(*exporter, events(1, 2));
  INFO(third);
  CHECK(third.find("HTTP 401") != std::string::npos);
  CHECK(third.find("hunter2-pw") == std::string::npos);  // the receiver echoed it: hidden
  CHECK(third.find("[hidden]") != std::string::npos);
}

// --- OpenTelemetry -----------------------------------------------------------------------------

TEST_CASE("opentelemetry exporter posts OTLP JSON log records", "[shipper][exporter]") {
  HttpReceiver collector(HttpReply{200, "{}"});
  ScopedEnv token("RUNNER_TEST_OTEL_TOKEN", "Bearer otel-token-123");
  auto exporter = make_exporter(
      {{"id", "otel"},
       {"type", "opentelemetry"},
       {"endpoint", collector.url()},
       {"headers", {{"Authorization", "${RUNNER_TEST_OTEL_TOKEN}"}, {"X-Tenant", "acme"}}}},
      "logExporters[0]", kNoKey);
  const auto batch = mixed_batch();
  exporter->send(batch);
  exporter->send(events(20, 2));

  const auto requests = collector.requests();
  REQUIRE(requests.size() == 2);
  CHECK(collector.connections() == 1);
  const HttpRequest& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/v1/logs");  // appended to a base endpoint
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Authorization") == "Bearer otel-token-123");
  CHECK(r.header("X-Tenant") == "acme");
  const json body = json::parse(r.body);
  REQUIRE(body["resourceLogs"].size() == 1);
  const json& resource_logs = body["resourceLogs"][0];
  CHECK(otel_attributes(resource_logs["resource"]["attributes"])["service.name"] ==
        json{{"stringValue", "runner"}});
  REQUIRE(resource_logs["scopeLogs"].size() == 1);
  CHECK(resource_logs["scopeLogs"][0]["scope"]["name"] == "runner");
  const json& records = resource_logs["scopeLogs"][0]["logRecords"];
  REQUIRE(records.size() == batch.size());
  const std::vector<int> severities = {9, 13, 17, 5, 21};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& e = batch[i].event;
    const json& record = records[i];
    INFO(record.dump());
    // fixed64 in OTLP JSON: decimal strings.
    REQUIRE(record["timeUnixNano"].is_string());
    CHECK(record["timeUnixNano"] == ns_string(batch[i]));
    CHECK(record["observedTimeUnixNano"] == ns_string(batch[i]));
    // An enum: a number.
    CHECK(record["severityNumber"] == severities[i]);
    CHECK(record["severityText"] == std::string(runner::logging::level_name(e.level)));
    CHECK(record["body"] == json{{"stringValue", e.message}});
    const json attributes = otel_attributes(record["attributes"]);
    CHECK(attributes["event.id"] == json{{"stringValue", e.id()}});
    CHECK(attributes["job.id"] == json{{"stringValue", e.job_id}});
    CHECK(attributes["namespace"] == json{{"stringValue", batch[i].namespace_name}});
    CHECK(attributes["component.id"] == json{{"stringValue", "keboola.ex-db"}});
    CHECK(attributes["source"] == json{{"stringValue", e.source}});
    CHECK(attributes["sequence"] == json{{"intValue", std::to_string(e.sequence)}});
  }
  const json fields = otel_attributes(records[1]["attributes"]);
  CHECK(fields["rows"] == json{{"intValue", "5"}});
  CHECK(fields["ok"] == json{{"boolValue", true}});
  CHECK(fields["ratio"] == json{{"doubleValue", 0.5}});
  CHECK(fields["table"] == json{{"stringValue", "in.c-main.x"}});
  CHECK(fields["tags"] == json{{"stringValue", R"(["a","b"])"}});
  CHECK_FALSE(fields.contains("none"));
}

TEST_CASE("opentelemetry exporter keeps a full endpoint and fails on rejected records",
          "[shipper][exporter]") {
  HttpReceiver collector;
  collector.queue_reply(HttpReply{
      200, R"({"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"body too large"}})"});
  collector.queue_reply(HttpReply{503, "unavailable"});
  collector.queue_reply(HttpReply{200, R"({"partialSuccess":{}})"});
  auto exporter = make_exporter({{"id", "otel"},
                                 {"type", "opentelemetry"},
                                 {"endpoint", collector.url() + "/otlp/v1/logs"},
                                 {"timeout", "PT10S"}},
                                "logExporters[3]", kNoKey);
  const std::string rejected = export_error(*exporter, events(1, 3));
  INFO(rejected);
  CHECK(rejected.find("opentelemetry exporter \"otel\"") != std::string::npos);
  CHECK(rejected.find("rejected 2 log records") != std::string::npos);
  CHECK(rejected.find("body too large") != std::string::npos);
  const std::string unavailable = export_error(*exporter, events(1, 3));
  CHECK(unavailable.find("HTTP 503") != std::string::npos);
  exporter->send(events(1, 3));
  const auto requests = collector.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& r : requests) CHECK(r.target == "/otlp/v1/logs");
}

// --- Datadog ----------------------------------------------------------------------------------

TEST_CASE("datadog exporter posts logs with DD-API-KEY and splits at 1000 logs",
          "[shipper][exporter]") {
  HttpReceiver intake(HttpReply{202, "{}"});
  const auto key = runner::secrets::generate_key();
  const std::string api_key = "0123456789abcdef0123456789abcdef";
  auto exporter = make_exporter({{"id", "dd"},
                                 {"type", "datadog"},
                                 {"apiKey", runner::secrets::encrypt_value(key, api_key)},
                                 {"url", intake.url()},
                                 {"service", "etl"},
                                 {"ddtags", "env:test,team:data"},
                                 {"hostname", "worker-1"}},
                                "logExporters[0]", [&] { return std::optional(key); });
  const auto batch = mixed_batch();
  exporter->send(batch);

  auto requests = intake.requests();
  REQUIRE(requests.size() == 1);
  const HttpRequest& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/api/v2/logs");
  CHECK(r.header("DD-API-KEY") == api_key);
  CHECK(r.header("Content-Type") == "application/json");
  const json logs = json::parse(r.body);
  REQUIRE(logs.is_array());
  REQUIRE(logs.size() == batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& e = batch[i].event;
    const json& log = logs[i];
    INFO(log.dump());
    CHECK(log["ddsource"] == "runner");
    CHECK(log["ddtags"] == "env:test,team:data");
    CHECK(log["hostname"] == "worker-1");
    CHECK(log["service"] == "etl");
    CHECK(log["message"] == e.message);
    CHECK(log["status"] == std::string(runner::logging::level_name(e.level)));
    CHECK(log["timestamp"] == e.time.time_since_epoch().count() / 1000);  // milliseconds
    CHECK(log["runner"]["event_id"] == e.id());
    CHECK(log["runner"]["job_id"] == e.job_id);
    CHECK(log["runner"]["seq"] == e.sequence);
    CHECK(log["runner"]["namespace"] == batch[i].namespace_name);
    CHECK(log["runner"]["component_id"] == "keboola.ex-db");
    CHECK(log["runner"]["source"] == e.source);
    CHECK(log["runner"]["time"] == runner::logging::format_time(e.time));
  }
  CHECK(logs[1]["fields"] == json::parse(batch[1].event.fields));

  // 2500 logs: three requests of 1000, 1000 and 500, in order.
  exporter->send(events(100, 2500));
  requests = intake.requests();
  REQUIRE(requests.size() == 4);
  std::vector<std::size_t> sizes;
  std::uint64_t next = 100;
  for (std::size_t i = 1; i < 4; ++i) {
    const json part = json::parse(requests[i].body);
    sizes.push_back(part.size());
    for (const json& log : part) CHECK(log["runner"]["seq"] == next++);
  }
  CHECK(sizes == std::vector<std::size_t>{1000, 1000, 500});
  CHECK(intake.connections() == 1);
}

TEST_CASE("datadog exporter keeps requests under 5 MB and logs under 1 MB", "[shipper][exporter]") {
  HttpReceiver intake(HttpReply{202, "{}"});
  auto exporter = make_exporter(
      {{"id", "dd"}, {"type", "datadog"}, {"apiKey", "k-12345"}, {"url", intake.url()}},
      "logExporters[0]", kNoKey);
  std::vector<ShippedEvent> batch;
  for (std::uint64_t i = 1; i <= 12; ++i)
    batch.push_back(shipped_event(i, std::string(600'000, 'x')));
  batch.push_back(shipped_event(13, std::string(1'500'000, 'y')));  // over 1 MB: cut
  exporter->send(batch);
  const auto requests = intake.requests();
  // 8 logs of 600 KB fill the first request; 4 more and the cut one the second.
  REQUIRE(requests.size() == 2);
  std::uint64_t next = 1;
  for (const auto& r : requests) {
    CHECK(r.body.size() <= 5'000'000);
    for (const json& log : json::parse(r.body)) {
      CHECK(log.dump().size() <= 1'000'000);
      CHECK(log["runner"]["seq"] == next++);
    }
  }
  CHECK(next == 14);
  const json last = json::parse(requests.back().body).back();
  CHECK(last["runner"]["truncated"] == true);
  CHECK(last["message"].get<std::string>().size() < 1'000'000);
}

TEST_CASE("datadog exporter errors name the exporter and never show the API key",
          "[shipper][exporter]") {
  ScopedEnv key("RUNNER_TEST_DD_KEY", "dd-secret-key-31337");
  HttpReceiver intake;
  intake.queue_reply(HttpReply{403, R"({"errors":["Forbidden: dd-secret-key-31337 is invalid"]})"});
  intake.queue_reply(HttpReply{429, R"({"errors":["rate limited"]})"});
  auto exporter = make_exporter({{"id", "dd-eu"},
                                 {"type", "datadog"},
                                 {"apiKey", "${RUNNER_TEST_DD_KEY}"},
                                 {"url", intake.url() + "/api/v2/logs"}},
                                "logExporters[0]", kNoKey);
  const std::string forbidden = export_error(*exporter, events(1, 1));
  INFO(forbidden);
  CHECK(forbidden.find("datadog exporter \"dd-eu\"") != std::string::npos);
  CHECK(forbidden.find("HTTP 403") != std::string::npos);
  CHECK(forbidden.find("dd-secret-key-31337") == std::string::npos);
  const std::string limited = export_error(*exporter, events(1, 1));
  CHECK(limited.find("HTTP 429") != std::string::npos);
  REQUIRE(intake.requests().size() == 2);
  CHECK(intake.requests()[0].header("DD-API-KEY") == "dd-secret-key-31337");

  // Nobody listening: a transport error, also naming the exporter.
  auto nowhere =
      make_exporter({{"id", "dd-down"},
                     {"type", "datadog"},
                     {"apiKey", "${RUNNER_TEST_DD_KEY}"},
                     {"url", "http://127.0.0.1:" + std::to_string(runner_test::unused_tcp_port())}},
                    "logExporters[1]", kNoKey);
  const std::string refused = export_error(*nowhere, events(1, 1));
  INFO(refused);
  CHECK(refused.find("datadog exporter \"dd-down\"") != std::string::npos);
  CHECK(refused.find("dd-secret-key-31337") == std::string::npos);
}

// --- Loki -------------------------------------------------------------------------------------

TEST_CASE("loki exporter pushes streams with low-cardinality labels and ordered ns timestamps",
          "[shipper][exporter]") {
  HttpReceiver loki(HttpReply{204, ""});
  auto exporter = make_exporter({{"id", "loki"},
                                 {"type", "loki"},
                                 {"url", loki.url()},
                                 {"tenantId", "tenant-1"},
                                 {"username", "12345"},
                                 {"password", "glc_token"},
                                 {"labels", {{"env", "test"}}}},
                                "logExporters[0]", kNoKey);
  std::vector<ShippedEvent> batch = mixed_batch();
  // Two more info/stdout events of team.data: same stream as the first, from another job.
  batch.push_back(
      shipped_event(6, "again", Level::info, R"({"k":"v"})", "stdout", "0190c2a4-job-c"));
  batch.push_back(shipped_event(7, "and again"));
  exporter->send(batch);

  const auto requests = loki.requests();
  REQUIRE(requests.size() == 1);
  const HttpRequest& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/loki/api/v1/push");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("X-Scope-OrgID") == "tenant-1");
  CHECK(r.header("Authorization") == basic_auth("12345", "glc_token"));
  const json body = json::parse(r.body);
  const json& streams = body["streams"];
  REQUIRE(streams.is_array());
  std::size_t entries = 0;
  std::set<std::string> ids;
  for (const json& stream : streams) {
    INFO(stream.dump());
    const json& labels = stream["stream"];
    // Labels: static ones plus namespace, level and source; never job or event ids.
    std::set<std::string> names;
    for (const auto& [name, value] : labels.items()) {
      names.insert(name);
      CHECK(value.is_string());
    }
    CHECK(names == std::set<std::string>{"job", "env", "namespace", "level", "source"});
    CHECK(labels["job"] == "runner");
    CHECK(labels["env"] == "test");
    std::string previous;
    for (const json& value : stream["values"]) {
      REQUIRE(value.size() == 2);
      REQUIRE(value[0].is_string());
      const std::string ns = value[0];
      CHECK(ns.size() == 19);
      if (!previous.empty()) CHECK(std::stoll(previous) <= std::stoll(ns));
      previous = ns;
      const json line = json::parse(value[1].get<std::string>());
      ids.insert(line["id"].get<std::string>());
      // The event the line stands for has these labels and this time.
      const auto it = std::find_if(batch.begin(), batch.end(), [&](const ShippedEvent& e) {
        return e.event.id() == line["id"];
      });
      REQUIRE(it != batch.end());
      CHECK(ns == ns_string(*it));
      CHECK(line["message"] == it->event.message);
      CHECK(line["job_id"] == it->event.job_id);
      CHECK(line["component_id"] == "keboola.ex-db");
      CHECK(line["seq"] == it->event.sequence);
      CHECK(labels["namespace"] == it->namespace_name);
      CHECK(labels["level"] == std::string(runner::logging::level_name(it->event.level)));
      CHECK(labels["source"] == it->event.source);
      if (!it->event.fields.empty()) CHECK(line["fields"] == json::parse(it->event.fields));
      ++entries;
    }
  }
  CHECK(entries == batch.size());
  CHECK(ids.size() == batch.size());
  // events 1, 6, 7 share team.data/info/stdout: one stream, not three.
  CHECK(streams.size() == batch.size() - 2);
}

TEST_CASE("loki exporter failures name the exporter and hide the password", "[shipper][exporter]") {
  HttpReceiver loki;
  loki.queue_reply(
      HttpReply{400, "entry for stream has timestamp too old; pw=glc_secret_99", "text/plain"});
  loki.queue_reply(HttpReply{204, ""});
  auto exporter = make_exporter({{"id", "grafana"},
                                 {"type", "loki"},
                                 {"url", loki.url() + "/loki/api/v1/push"},
                                 {"username", "user"},
                                 {"password", "glc_secret_99"}},
                                "logExporters[0]", kNoKey);
  const std::string message = export_error(*exporter, events(1, 2));
  INFO(message);
  CHECK(message.find("loki exporter \"grafana\"") != std::string::npos);
  CHECK(message.find("HTTP 400") != std::string::npos);
  CHECK(message.find("timestamp too old") != std::string::npos);
  CHECK(message.find("glc_secret_99") == std::string::npos);
  exporter->send(events(1, 2));
  const auto requests = loki.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].target == "/loki/api/v1/push");  // not appended twice
  CHECK(requests[0].body == requests[1].body);       // a retry is the same push (deduplicated)
}

// --- Kestra's property names ------------------------------------------------------------------

TEST_CASE("http exporters accept the properties of Kestra's log exporters", "[shipper][exporter]") {
  HttpReceiver receiver(HttpReply{200, R"({"errors":false,"items":[]})"});
  ScopedEnv password("RUNNER_TEST_KESTRA_ES_PASSWORD", "kestra-es-pw");
  // Elasticsearch: connection.hosts/basicAuth/headers/pathPrefix, indexName, chunk.
  auto es = make_exporter(
      {{"id", "ElasticsearchLogExporter"},
       {"type", "elasticsearch"},
       {"connection",
        {{"hosts", {receiver.url()}},
         {"basicAuth",
          {{"username", "elastic"}, {"password", "${RUNNER_TEST_KESTRA_ES_PASSWORD}"}}},
         {"headers", {"X-Team: data"}},
         {"pathPrefix", "/search"}}},
       {"indexName", "kestra-logs"},
       {"chunk", 2}},
      "logExporters[0]", kNoKey);
  es->send(events(1, 5));
  auto requests = receiver.requests();
  REQUIRE(requests.size() == 3);  // 2 + 2 + 1 documents
  for (const auto& r : requests) {
    CHECK(r.target == "/search/_bulk");
    CHECK(r.header("Authorization") == basic_auth("elastic", "kestra-es-pw"));
    CHECK(r.header("X-Team") == "data");
    CHECK(ndjson(r.body)[0]["index"]["_index"] == "kestra-logs");
  }
  CHECK(ndjson(requests[2].body).size() == 2);

  // OpenTelemetry: otlpEndpoint (a full URL), authorizationHeaderName/Value, chunk.
  auto otel = make_exporter({{"id", "OTLPLogExporter"},
                             {"type", "opentelemetry"},
                             {"otlpEndpoint", receiver.url() + "/v1/logs"},
                             {"authorizationHeaderName", "Authorization"},
                             {"authorizationHeaderValue", "Bearer kestra-token"},
                             {"chunk", 4}},
                            "logExporters[1]", kNoKey);
  receiver.set_default_reply(HttpReply{200, "{}"});
  otel->send(events(1, 5));
  requests = receiver.requests();
  REQUIRE(requests.size() == 5);
  CHECK(requests[3].target == "/v1/logs");
  CHECK(requests[3].header("Authorization") == "Bearer kestra-token");
  CHECK(json::parse(requests[3].body)["resourceLogs"][0]["scopeLogs"][0]["logRecords"].size() == 4);

  // Datadog: basePath (the task appends /api/v2/logs), chunk.
  auto datadog = make_exporter({{"id", "DatadogLogExporter"},
                                {"type", "datadog"},
                                {"basePath", receiver.url()},
                                {"apiKey", "b96c7528f0aab740"},
                                {"chunk", 3}},
                               "logExporters[2]", kNoKey);
  receiver.set_default_reply(HttpReply{202, "{}"});
  datadog->send(events(1, 5));
  requests = receiver.requests();
  REQUIRE(requests.size() == 7);
  CHECK(requests[5].target == "/api/v2/logs");
  CHECK(json::parse(requests[5].body).size() == 3);
  CHECK(json::parse(requests[6].body).size() == 2);

  // Kestra's expressions are not evaluated: a clear error instead of a wrong credential.
  try {
    make_exporter({{"id", "DatadogLogExporter"},
                   {"type", "datadog"},
                   {"basePath", receiver.url()},
                   {"apiKey", "{{ secret('DATADOG_API_KEY') }}"}},
                  "logExporters[2]", kNoKey);
    FAIL("no ExporterConfigError");
  } catch (const runner::shipper::ExporterConfigError& e) {
    const std::string message = e.what();
    CHECK(message.find("logExporters[2].apiKey") != std::string::npos);
    CHECK(message.find("${NAME}") != std::string::npos);
  }
}

// Tests of the log shipper's exporters, part 1: make_exporter's validation (every error names
// where, the property and what was expected), resolve_credential (environment variables and
// RUNNER::ENC:: values, never a value in an error), and the file exporter on real files (JSON
// Lines round trip, rolling at maxLinesPerFile, a pass per file, errors naming the exporter).
// The network exporters are in test_exporter_http.cpp, test_exporter_gelf.cpp and
// test_exporter_syslog.cpp.
#include <catch2/catch.hpp>
#include "exporter_test_support.hpp"

#include "secrets/config_cipher.hpp"
#include "shipper/log_exporter.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;
using runner::logging::Level;
using runner::shipper::ExporterConfigError;
using runner::shipper::ExportError;
using runner::shipper::KeyLookup;
using runner::shipper::make_exporter;
using runner::shipper::resolve_credential;
using runner::shipper::ShippedEvent;

namespace {

using runner_test::kNoKey;
using runner_test::ScopedEnv;

ShippedEvent event(std::uint64_t sequence, std::string message, Level level = Level::info,
                   std::string fields = "", std::string job = "0190c2a4-job-a") {
  return runner_test::shipped_event(sequence, std::move(message), level, std::move(fields),
                                    "stdout", std::move(job));
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "runner-exporter-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<ShippedEvent> events(std::uint64_t first, std::uint64_t count) {
  std::vector<ShippedEvent> out;
  for (std::uint64_t i = first; i < first + count; ++i)
    out.push_back(event(i, "line " + std::to_string(i)));
  return out;
}

// The message of the ExporterConfigError make_exporter throws for `config`.
std::string config_error(const json& config, const KeyLookup& key = kNoKey) {
  try {
    make_exporter(config, "logExporters[2]", key);
  } catch (const ExporterConfigError& e) {
    return e.what();
  }
  FAIL("no ExporterConfigError for " << config.dump());
  return {};
}

std::vector<fs::path> files_in(const fs::path& folder) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(folder)) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<json> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

}  // namespace

// --- configuration ------------------------------------------------------------------------------

TEST_CASE("make_exporter builds every exporter type from valid properties", "[shipper][exporter]") {
  const std::vector<json> configs = {
      {{"id", "f"}, {"type", "file"}, {"path", "/tmp/runner-never-written"}},
      {{"id", "es"}, {"type", "elasticsearch"}, {"url", "http://127.0.0.1:9200"}},
      {{"id", "os"}, {"type", "opensearch"}, {"url", "https://search.example:9200/prefix/"}},
      {{"id", "otel"}, {"type", "opentelemetry"}, {"endpoint", "http://127.0.0.1:4318"}},
      {{"id", "dd"}, {"type", "datadog"}, {"apiKey", "abc123"}, {"site", "datadoghq.eu"}},
      {{"id", "loki"}, {"type", "loki"}, {"url", "http://127.0.0.1:3100"}},
      {{"id", "gelf"}, {"type", "gelf"}, {"host", "127.0.0.1"}, {"transport", "tcp"}},
      {{"id", "sys"}, {"type", "syslog"}, {"host", "127.0.0.1"}, {"facility", "local3"}},
  };
  for (const json& config : configs) {
    INFO(config.dump());
    const auto exporter = make_exporter(config, "logExporters[0]", kNoKey);
    REQUIRE(exporter);
    CHECK(exporter->id() == config["id"]);
    CHECK(exporter->type() == config["type"]);
    exporter->send({});  // an empty batch opens nothing and sends nothing
    exporter->close();
  }
  CHECK_FALSE(fs::exists("/tmp/runner-never-written"));
}

// Issue 15: Kestra's FileLogExporter has no path; without one the files go to $RUNNER_HOME/logs.
TEST_CASE("the file exporter without a path writes to $RUNNER_HOME/logs", "[shipper][exporter]") {
  TempDir home;
  const ScopedEnv env("RUNNER_HOME", home.path().string());
  const auto exporter = make_exporter({{"id", "f"}, {"type", "file"}}, "logExporters[0]", kNoKey);
  exporter->send(events(1, 3));
  exporter->close();
  const auto files = files_in(home.path() / "logs");
  REQUIRE(files.size() == 1);
  const auto lines = lines_of(files[0]);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["seq"] == 1);
}

TEST_CASE("make_exporter errors name the entry, the property and what was expected",
          "[shipper][exporter]") {
  struct Case {
    json config;
    std::vector<std::string> expected;  // substrings of the message
  };
  const std::vector<Case> cases = {
      {json::array(), {"logExporters[2]", "expected an object"}},
      {{{"type", "file"}}, {"logExporters[2].id", "non-empty string"}},
      {{{"id", "x"}, {"type", "kafka"}},
       {"logExporters[2].type", "exporter \"x\"", "file, elasticsearch", "\"kafka\""}},
      {{{"id", "x"}, {"type", "file"}, {"path", "/tmp/a"}, {"maxLinesPerFile", 0}},
       {"logExporters[2].maxLinesPerFile", "an integer from 1"}},
      {{{"id", "x"}, {"type", "file"}, {"path", "/tmp/a"}, {"filePrefix", "a/b"}},
       {"logExporters[2].filePrefix", "without '/'"}},
      {{{"id", "x"}, {"type", "file"}, {"path", "/tmp/a"}, {"format", "ION"}},
       {"logExporters[2].format", "JSON"}},
      {{{"id", "x"},
        {"type", "file"},
        {"path", "/tmp/a"},
        {"filePrefix", "a"},
        {"logFilePrefix", "b"}},
       {"logExporters[2].logFilePrefix", "same property"}},
      {{{"id", "es"}, {"type", "elasticsearch"}, {"url", "http://h"}, {"index", "Logs"}},
       {"logExporters[2].index", "lower case"}},
      {{{"id", "es"}, {"type", "elasticsearch"}, {"connection", {{"hosts", {"x"}}}}},
       {"logExporters[2].connection.hosts[0]", "http://"}},
      {{{"id", "x"}, {"type", "file"}, {"path", "/tmp/a"}, {"maxLines", 5}},
       {"logExporters[2].maxLines", "unknown property", "maxLinesPerFile"}},
      {{{"id", "es"}, {"type", "elasticsearch"}}, {"logExporters[2].url", "required"}},
      {{{"id", "es"}, {"type", "elasticsearch"}, {"url", "ftp://host"}},
       {"logExporters[2].url", "http:// or https://", "ftp://host"}},
      {{{"id", "es"}, {"type", "elasticsearch"}, {"url", "http://h"}, {"username", "u"}},
       {"logExporters[2].password", "go together"}},
      {{{"id", "es"},
        {"type", "elasticsearch"},
        {"url", "http://h"},
        {"username", "u"},
        {"password", "p"},
        {"apiKey", "k"}},
       {"logExporters[2].apiKey", "not both"}},
      {{{"id", "es"}, {"type", "elasticsearch"}, {"url", "http://h"}, {"timeout", "soon"}},
       {"logExporters[2].timeout", "ISO-8601"}},
      {{{"id", "o"}, {"type", "opentelemetry"}, {"endpoint", "http://h"}, {"headers", "x"}},
       {"logExporters[2].headers", "an object of string values"}},
      {{{"id", "o"},
        {"type", "opentelemetry"},
        {"endpoint", "http://h"},
        {"headers", {{"Bad Name", "v"}}}},
       {"logExporters[2].headers.Bad Name", "header name"}},
      {{{"id", "d"}, {"type", "datadog"}}, {"logExporters[2].apiKey", "required"}},
      {{{"id", "d"}, {"type", "datadog"}, {"apiKey", "k"}, {"site", "a/b"}},
       {"logExporters[2].site", "datadoghq.eu"}},
      {{{"id", "l"}, {"type", "loki"}, {"url", "http://h"}, {"labels", {{"job id", "x"}}}},
       {"logExporters[2].labels.job id", "label name"}},
      {{{"id", "l"}, {"type", "loki"}, {"url", "http://h"}, {"labels", {{"level", "x"}}}},
       {"logExporters[2].labels.level", "set from each event"}},
      {{{"id", "g"}, {"type", "gelf"}}, {"logExporters[2].host", "required"}},
      {{{"id", "g"}, {"type", "gelf"}, {"host", "h"}, {"transport", "http"}},
       {"logExporters[2].transport", "udp or tcp"}},
      {{{"id", "g"}, {"type", "gelf"}, {"host", "h"}, {"port", 70000}},
       {"logExporters[2].port", "from 1 to 65535", "70000"}},
      {{{"id", "g"}, {"type", "gelf"}, {"host", "h"}, {"port", "twelve"}},
       {"logExporters[2].port", "an integer"}},
      {{{"id", "s"}, {"type", "syslog"}, {"host", "h"}, {"facility", 24}},
       {"logExporters[2].facility", "0-23", "local0"}},
      {{{"id", "s"}, {"type", "syslog"}, {"host", "h"}, {"appName", "my app"}},
       {"logExporters[2].appName", "APP-NAME"}},
  };
  for (const Case& c : cases) {
    const std::string message = config_error(c.config);
    INFO(c.config.dump() << " -> " << message);
    for (const std::string& part : c.expected) CHECK(message.find(part) != std::string::npos);
  }
}

TEST_CASE("make_exporter accepts timeouts in seconds or as ISO-8601 durations",
          "[shipper][exporter]") {
  for (const json& timeout :
       {json(5), json(0.5), json("PT30S"), json("PT1M30S"), json("PT0.25S"), json("pt2s")}) {
    INFO(timeout.dump());
    CHECK(make_exporter({{"id", "e"}, {"type", "loki"}, {"url", "http://h"}, {"timeout", timeout}},
                        "logExporters[0]", kNoKey));
  }
  for (const json& timeout :
       {json(0), json(-1), json("30"), json("PT"), json("P1H"), json("PT2H"), json(true)}) {
    INFO(timeout.dump());
    CHECK(config_error({{"id", "e"}, {"type", "loki"}, {"url", "http://h"}, {"timeout", timeout}})
              .find("logExporters[2].timeout") != std::string::npos);
  }
}

// --- credentials --------------------------------------------------------------------------------

TEST_CASE("resolve_credential reads environment variables and keeps other strings",
          "[shipper][exporter]") {
  ScopedEnv set("RUNNER_TEST_EXPORTER_TOKEN", "t0ps3cret-from-env");
  ScopedEnv unset("RUNNER_TEST_EXPORTER_MISSING", std::nullopt);
  CHECK(resolve_credential("${RUNNER_TEST_EXPORTER_TOKEN}", "logExporters[0].apiKey", kNoKey) ==
        "t0ps3cret-from-env");
  CHECK(resolve_credential("plain-value", "w", kNoKey) == "plain-value");
  CHECK(resolve_credential("prefix ${RUNNER_TEST_EXPORTER_TOKEN}", "w", kNoKey) ==
        "prefix ${RUNNER_TEST_EXPORTER_TOKEN}");
  try {
    resolve_credential("${RUNNER_TEST_EXPORTER_MISSING}", "logExporters[1].password", kNoKey);
    FAIL("no error for an unset variable");
  } catch (const ExporterConfigError& e) {
    const std::string message = e.what();
    CHECK(message.find("logExporters[1].password") != std::string::npos);
    CHECK(message.find("RUNNER_TEST_EXPORTER_MISSING is not set") != std::string::npos);
  }
  CHECK_THROWS_AS(resolve_credential("${NOT A NAME}", "w", kNoKey), ExporterConfigError);
}

TEST_CASE("resolve_credential decrypts RUNNER::ENC values and never shows them",
          "[shipper][exporter]") {
  const auto key = runner::secrets::generate_key();
  const auto other = runner::secrets::generate_key();
  const std::string secret = "api-key-9f8e7d6c";
  const std::string ciphertext = runner::secrets::encrypt_value(key, secret);
  const KeyLookup with_key = [&] { return std::optional(key); };
  const KeyLookup wrong_key = [&] { return std::optional(other); };

  CHECK(resolve_credential(ciphertext, "logExporters[0].apiKey", with_key) == secret);

  for (const KeyLookup& lookup : {wrong_key, kNoKey}) {
    try {
      resolve_credential(ciphertext, "logExporters[0].apiKey", lookup);
      FAIL("no error");
    } catch (const ExporterConfigError& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("logExporters[0].apiKey: cannot decrypt") != std::string::npos);
      CHECK(message.find(secret) == std::string::npos);
      CHECK(message.find(ciphertext) == std::string::npos);
    }
  }
  // Through make_exporter: the decrypted key is used, errors name the property.
  const json config = {{"id", "dd"}, {"type", "datadog"}, {"apiKey", ciphertext}};
  CHECK(make_exporter(config, "logExporters[0]", with_key));
  const std::string message = config_error(config, wrong_key);
  CHECK(message.find("logExporters[2].apiKey") != std::string::npos);
  CHECK(message.find(ciphertext) == std::string::npos);
}

// --- file
// -----------------------------------------------------------------------------------------

TEST_CASE("file exporter writes one JSON object per event and reads back the same",
          "[shipper][exporter]") {
  TempDir dir;
  const fs::path folder = dir.path() / "new" / "logs";  // created on the first send
  auto exporter = make_exporter({{"id", "archive"}, {"type", "file"}, {"path", folder.string()}},
                                "logExporters[0]", kNoKey);
  std::vector<ShippedEvent> batch;
  batch.push_back(event(1, "plain"));
  batch.push_back(event(2, "quote \" backslash \\ tab \t newline \n unicode \xc3\xa9 \xe2\x82\xac",
                        Level::warning));
  batch.push_back(event(3, "with fields", Level::error,
                        R"({"rows":5,"table":"in.c-main.x",)"
                        R"("nested":{"a":[1,2]}})"));
  batch.push_back(event(4, "", Level::emergency));
  exporter->send(batch);
  exporter->close();

  const auto files = files_in(folder);
  REQUIRE(files.size() == 1);
  CHECK(std::regex_match(files[0].filename().string(), std::regex(R"(logs-\d{8}T\d{6}-1\.jsonl)")));
  const auto lines = lines_of(files[0]);
  REQUIRE(lines.size() == batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& e = batch[i].event;
    const json& line = lines[i];
    INFO(line.dump());
    CHECK(line["id"] == e.id());
    CHECK(line["id"] == "0190c2a4-job-a-00000000000" + std::to_string(i + 1));
    CHECK(line["time"] == runner::logging::format_time(e.time));
    CHECK(line["level"] == std::string(runner::logging::level_name(e.level)));
    CHECK(line["source"] == "stdout");
    CHECK(line["message"] == e.message);
    CHECK(line["job_id"] == e.job_id);
    CHECK(line["seq"] == e.sequence);
    CHECK(line["namespace"] == "team.data");
    CHECK(line["component_id"] == "keboola.ex-db");
    if (e.fields.empty()) {
      CHECK_FALSE(line.contains("fields"));
    } else {
      CHECK(line["fields"] == json::parse(e.fields));
    }
  }
  CHECK(lines[0]["time"] == "2025-11-21T11:54:14.001007Z");
}

TEST_CASE("file exporter rolls files at maxLinesPerFile and starts a new file each pass",
          "[shipper][exporter]") {
  TempDir dir;
  auto exporter = make_exporter({{"id", "archive"},
                                 {"type", "file"},
                                 {"path", dir.path().string()},
                                 {"filePrefix", "runner"},
                                 {"maxLinesPerFile", 10}},
                                "logExporters[0]", kNoKey);
  // Pass 1: 7 + 7 + 11 events = 25 lines: files of 10, 10 and 5, batches crossing files.
  exporter->send(events(1, 7));
  exporter->send(events(8, 7));
  exporter->send(events(15, 11));
  exporter->close();
  // Pass 2: 3 events go to a new file.
  exporter->send(events(26, 3));
  exporter->close();

  auto files = files_in(dir.path());
  REQUIRE(files.size() == 4);
  // Names end in -1 ... -4; sort by that number (the time part may differ between files).
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    const auto number = [](const fs::path& p) {
      const std::string name = p.stem().string();
      return std::stoi(name.substr(name.rfind('-') + 1));
    };
    return number(a) < number(b);
  });
  const std::vector<std::size_t> sizes = {10, 10, 5, 3};
  std::uint64_t expected_sequence = 1;
  for (std::size_t f = 0; f < files.size(); ++f) {
    INFO(files[f]);
    CHECK(
        std::regex_match(files[f].filename().string(),
                         std::regex("runner-\\d{8}T\\d{6}-" + std::to_string(f + 1) + "\\.jsonl")));
    const auto lines = lines_of(files[f]);
    CHECK(lines.size() == sizes[f]);
    for (const json& line : lines) CHECK(line["seq"] == expected_sequence++);
  }
  CHECK(expected_sequence == 29);
}

TEST_CASE("file exporter accepts Kestra's logFilePrefix and format JSON", "[shipper][exporter]") {
  TempDir dir;
  auto exporter = make_exporter({{"id", "file"},
                                 {"type", "file"},
                                 {"path", dir.path().string()},
                                 {"logFilePrefix", "kestra-log-file"},
                                 {"format", "JSON"},
                                 {"maxLinesPerFile", 100}},
                                "logExporters[0]", kNoKey);
  exporter->send(events(1, 3));
  exporter->close();
  const auto files = files_in(dir.path());
  REQUIRE(files.size() == 1);
  CHECK(files[0].filename().string().rfind("kestra-log-file-", 0) == 0);
  CHECK(lines_of(files[0]).size() == 3);
}

TEST_CASE("file exporter never overwrites an existing file", "[shipper][exporter]") {
  TempDir dir;
  const json config = {{"id", "archive"}, {"type", "file"}, {"path", dir.path().string()}};
  // Two exporters (two runs of the shipper) in the same second both start at -1.
  auto first = make_exporter(config, "logExporters[0]", kNoKey);
  auto second = make_exporter(config, "logExporters[0]", kNoKey);
  first->send(events(1, 2));
  second->send(events(3, 2));
  first->close();
  second->close();
  std::size_t lines = 0;
  const auto files = files_in(dir.path());
  for (const auto& file : files) lines += lines_of(file).size();
  CHECK(lines == 4);
  CHECK(files.size() >= 2);
}

TEST_CASE("file exporter failures are ExportErrors naming the exporter", "[shipper][exporter]") {
  // A folder below a regular file cannot be created, also for root (who ignores permissions).
  TempDir dir;
  const fs::path blocker = dir.path() / "not-a-folder";
  std::ofstream(blocker) << "x";
  auto exporter =
      make_exporter({{"id", "archive"}, {"type", "file"}, {"path", (blocker / "logs").string()}},
                    "logExporters[0]", kNoKey);
  try {
    exporter->send(events(1, 1));
    FAIL("no ExportError");
  } catch (const ExportError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("file exporter \"archive\"") != std::string::npos);
    CHECK(message.find("cannot create folder") != std::string::npos);
  }
}

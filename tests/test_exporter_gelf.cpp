// Tests of the GELF exporter against the project's own GELF server, `runner gelf-server`, run as
// a process (UDP and TCP): messages, levels and additional fields arrive as sent; a message
// larger than a datagram arrives through GELF chunking; one too large for 128 chunks arrives cut
// and marked; and a receiver that is gone is an ExportError naming the exporter.
#include <catch2/catch.hpp>
#include "exporter_test_support.hpp"

#include "cli_process.hpp"
#include "secrets/config_cipher.hpp"  // KeyLookup needs the complete EncryptionKey
#include "shipper/log_exporter.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using runner::logging::Level;
using runner::shipper::ExportError;
using runner::shipper::KeyLookup;
using runner::shipper::make_exporter;
using runner::shipper::ShippedEvent;
using runner_test::CliProcess;
using namespace std::chrono_literals;

namespace {

using runner_test::kNoKey;

ShippedEvent event(std::uint64_t sequence, std::string message, Level level = Level::info,
                   std::string fields = "") {
  return runner_test::shipped_event(sequence, std::move(message), level, std::move(fields),
                                    "stderr", "0190c2a4-job-g");
}

// Hard-to-compress text of `length` bytes.
std::string noise(std::size_t length) {
  std::uint64_t x = 42;
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    out += "0123456789abcdef"[(x >> 33) & 15];
  }
  return out;
}

// `runner gelf-server` on 127.0.0.1 and a random port, writing its events as JSON Lines.
class GelfServer {
 public:
  explicit GelfServer(const std::string& transport)
      : events_(runner_test::temp_file("", ".jsonl")) {
    process_ = std::make_unique<CliProcess>(
        std::vector<std::string>{"gelf-server", "--transport", transport, "--bind", "127.0.0.1",
                                 "--port", "0", "--events", events_, "--no-color"});
    const std::string prefix = "Listening for GELF over " + transport + " on 127.0.0.1:";
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::string err;
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      err = process_->err();
      const std::size_t at = err.find(prefix);
      const std::size_t end = at == std::string::npos ? at : err.find('\n', at);
      if (end != std::string::npos) {
        port_ = static_cast<std::uint16_t>(
            std::stoul(err.substr(at + prefix.size(), end - at - prefix.size())));
      } else {
        std::this_thread::sleep_for(20ms);
      }
    }
    INFO("gelf-server stderr: " << err);
    REQUIRE(port_ != 0);
  }
  ~GelfServer() {
    if (running_) {
      process_->signal(SIGKILL);
      process_->wait(30s);
    }
    std::filesystem::remove(events_);
  }
  GelfServer(const GelfServer&) = delete;
  GelfServer& operator=(const GelfServer&) = delete;

  std::uint16_t port() const { return port_; }

  std::vector<json> gelf_events() const {
    std::vector<json> out;
    for (const json& e : runner_test::complete_json_lines(events_))
      if (e.value("kind", "") == "event" && e.value("source", "") == "gelf") out.push_back(e);
    return out;
  }
  std::vector<json> wait_for(std::size_t count) const {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::vector<json> events = gelf_events();
    while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      events = gelf_events();
    }
    INFO("events so far: " << json(events).dump());
    REQUIRE(events.size() >= count);
    return events;
  }
  // Stops the server; returns the counters of its final event.
  json stop() {
    process_->signal(SIGTERM);
    REQUIRE(process_->wait(30s) == 0);
    running_ = false;
    json counters;
    for (const json& e : runner_test::complete_json_lines(events_))
      if (e.value("source", "") == "runner") counters = e["fields"];
    return counters;
  }

 private:
  std::string events_;
  std::unique_ptr<CliProcess> process_;
  std::uint16_t port_ = 0;
  bool running_ = true;
};

const json& with_event_id(const std::vector<json>& events, const std::string& id) {
  for (const json& e : events)
    if (e["fields"].value("event_id", "") == id) return e;
  FAIL("no event with event_id " << id);
  return events.front();
}

std::vector<ShippedEvent> sample_batch() {
  return {event(1, "hello gelf", Level::info,
                R"({"rows":5,"user name":"x","id":"f1","ok":true,"obj":{"a":1},"gone":null,)"
                R"("source":"field source"})"),
          event(2, "first line\nsecond line \xc3\xa9", Level::error), event(3, "", Level::debug)};
}

void check_sample(const std::vector<json>& events, const std::vector<ShippedEvent>& batch) {
  const json& first = with_event_id(events, batch[0].event.id());
  INFO(first.dump());
  CHECK(first["message"] == "hello gelf");
  CHECK(first["level"] == "info");
  const json& f = first["fields"];
  CHECK(f["host"] == "exporter-test-host");
  CHECK(f["job_id"] == "0190c2a4-job-g");
  CHECK(f["seq"] == 1);
  CHECK(f["namespace"] == "team.data");
  CHECK(f["component_id"] == "keboola.ex-db");
  CHECK(f["source"] == "stderr");
  CHECK(f["timestamp"].get<double>() == Approx(1763726054.001007).epsilon(1e-15));
  // Fields: names GELF accepts, `id` renamed (GELF reserves _id), booleans and objects as text,
  // null left out, a name runner uses itself prefixed.
  CHECK(f["rows"] == 5);
  CHECK(f["user_name"] == "x");
  CHECK(f["field_id"] == "f1");
  CHECK(f["ok"] == "true");
  CHECK(f["obj"] == R"({"a":1})");
  CHECK(f["field_source"] == "field source");
  CHECK_FALSE(f.contains("gone"));

  const json& second = with_event_id(events, batch[1].event.id());
  CHECK(second["message"] == "first line");
  CHECK(second["level"] == "error");
  CHECK(second["fields"]["full_message"] == "first line\nsecond line \xc3\xa9");

  const json& third = with_event_id(events, batch[2].event.id());
  CHECK(third["message"] == "");
  CHECK(third["level"] == "debug");
}

}  // namespace

TEST_CASE("gelf exporter over UDP reaches runner gelf-server, chunking large messages",
          "[shipper][exporter]") {
  GelfServer server("udp");
  auto exporter = make_exporter({{"id", "graylog"},
                                 {"type", "gelf"},
                                 {"host", "127.0.0.1"},
                                 {"port", server.port()},
                                 {"sourceHost", "exporter-test-host"}},
                                "logExporters[0]", kNoKey);
  const auto batch = sample_batch();
  exporter->send(batch);
  check_sample(server.wait_for(3), batch);

  // 20 KB in one line: short_message is its first 250 bytes, full_message all of it, sent as
  // three chunks of at most 8192 bytes.
  const std::string big = noise(20000);
  const ShippedEvent large = event(4, big, Level::warning);
  exporter->send({large});
  const auto all = server.wait_for(4);
  const json& arrived = with_event_id(all, large.event.id());
  CHECK(arrived["message"] == big.substr(0, 250));
  CHECK(arrived["fields"]["full_message"] == big);
  CHECK(arrived["level"] == "warning");
  exporter->close();

  const json counters = server.stop();
  INFO(counters.dump());
  CHECK(counters["chunks_completed"] == 1);
  CHECK(counters["invalid"] == 0);
  CHECK(counters["received"] == 4);
}

TEST_CASE("gelf exporter cuts a message that needs more than 128 chunks", "[shipper][exporter]") {
  GelfServer server("udp");
  auto exporter = make_exporter({{"id", "graylog"},
                                 {"type", "gelf"},
                                 {"host", "127.0.0.1"},
                                 {"port", server.port()},
                                 {"chunkSize", 1024}},
                                "logExporters[0]", kNoKey);
  // 128 chunks of 1012 bytes hold 129,536 bytes: 150,000 bytes of text do not fit.
  const std::string big = noise(150000);
  const ShippedEvent large = event(1, "head\n" + big, Level::notice);
  exporter->send({large});
  const auto all = server.wait_for(1);
  const json& arrived = with_event_id(all, large.event.id());
  CHECK(arrived["message"] == "head");
  CHECK(arrived["fields"]["truncated"] == true);
  const std::string full = arrived["fields"]["full_message"];
  CHECK(full.size() < 129536);
  CHECK(full.size() > 100000);
  CHECK(large.event.message.compare(0, full.size(), full) == 0);
  const json counters = server.stop();
  CHECK(counters["chunks_completed"] == 1);
}

TEST_CASE("gelf exporter over TCP sends NUL-framed messages on one connection",
          "[shipper][exporter]") {
  GelfServer server("tcp");
  auto exporter = make_exporter({{"id", "graylog-tcp"},
                                 {"type", "gelf"},
                                 {"host", "localhost"},
                                 {"port", server.port()},
                                 {"transport", "tcp"},
                                 {"sourceHost", "exporter-test-host"}},
                                "logExporters[0]", kNoKey);
  const auto batch = sample_batch();
  exporter->send(batch);
  std::vector<ShippedEvent> more;
  for (std::uint64_t i = 10; i < 110; ++i) more.push_back(event(i, "line " + std::to_string(i)));
  more.push_back(event(110, noise(100000)));  // large frames need no chunking over TCP
  exporter->send(more);
  const auto events = server.wait_for(batch.size() + more.size());
  check_sample(events, batch);
  CHECK(with_event_id(events, more.back().event.id())["fields"]["full_message"] ==
        more.back().event.message);
  exporter->close();
  const json counters = server.stop();
  INFO(counters.dump());
  CHECK(counters["connections"] == 1);
  CHECK(counters["received"] == batch.size() + more.size());

  // The server is gone: the next send fails, naming the exporter.
  try {
    exporter->send(batch);
    FAIL("no ExportError");
  } catch (const ExportError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("gelf exporter \"graylog-tcp\"") != std::string::npos);
    CHECK(message.find("cannot connect") != std::string::npos);
  }
}

// End-to-end GELF logging mode: a job hosting its own GELF server, with real containers sending
// over TCP (busybox nc), HTTP (busybox wget) and UDP (node's dgram and zlib, plain and chunked).
// Checks visibility rules, scrubbing, stdout/stderr after exit, counters, peer filtering and the
// 200 KB limit, on the JSON Lines events and the result.
#include "cli_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <thread>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::read_json_lines;
using runner_test::temp_file;

namespace {

struct Run {
  int exit_code;
  std::string terminal;
  std::vector<json> events;
  json result;
};

Run run_job(const json& doc) {
  const std::string events = temp_file("", ".jsonl");
  auto r = runner_test::run_cli({"run", temp_file(doc.dump()), "--events", events});
  Run out{r.exit_code, r.out, read_json_lines(events), json()};
  if (!out.events.empty()) out.result = out.events.back();
  std::filesystem::remove(events);
  return out;
}

std::vector<json> from(const std::vector<json>& events, const std::string& source) {
  std::vector<json> out;
  for (const auto& e : events)
    if (e["kind"] == "event" && e["source"] == source) out.push_back(e);
  return out;
}

// The per-job counters event: debug when nothing was lost, a warning naming what was lost.
json counters_event(const std::vector<json>& events) {
  for (const auto& e : from(events, "runner"))
    if (e["message"].get<std::string>().rfind("GELF server (", 0) == 0 && e.contains("fields"))
      return e;
  return json();
}

json counters(const std::vector<json>& events) {
  const json e = counters_event(events);
  return e.is_null() ? e : e["fields"];
}

// A busybox component that sends NUL-terminated GELF messages over TCP with nc.
json tcp_component(const std::vector<json>& messages, const std::string& after = "") {
  std::string payload;
  for (const auto& m : messages) {
    std::string text = m.dump();
    std::string escaped;
    for (char c : text) escaped += c == '\'' ? std::string("'\\''") : std::string(1, c);
    payload += escaped + "\\0";
  }
  return {
      {"id", "test.gelf-job"},
      {"image", "runner-busybox:latest"},
      {"logging", {{"type", "gelf"}}},
      {"command",
       {"sh", "-c", "printf '" + payload + "' | nc $KBC_LOGGER_ADDR $KBC_LOGGER_PORT; " + after}}};
}

}  // namespace

TEST_CASE("GELF over TCP: levels, Keboola's visibility rules and scrubbed fields", "[e2e][gelf]") {
  json doc = tcp_component({{{"version", "1.1"},
                             {"host", "c1"},
                             {"short_message", "info with Pa55word_x9"},
                             {"level", 6},
                             {"_user", "bob"}},
                            {{"short_message", "debug is hidden by default"}, {"level", 7}},
                            {{"short_message", "a warning"}, {"level", 4}, {"_rows", 12}},
                            {{"short_message", "critical detail"}, {"level", 2}},
                            {{"short_message", "verbose error"},
                             {"level", 3},
                             {"full_message", "trace..."},
                             {"_Pa55word_x9", "x"}}},
                           "echo printed on stdout; echo printed on stderr >&2; exit 0");
  doc["parameters"] = {{"#db_password", "Pa55word_x9"}};
  doc["logging"]["verbosity"] = {{"error", "verbose"}};
  auto r = run_job(doc);
  REQUIRE(r.exit_code == 0);
  const auto gelf = from(r.events, "gelf");
  REQUIRE(gelf.size() == 4);
  CHECK(gelf[0]["message"] == "info with [hidden]");
  CHECK(gelf[0]["level"] == "info");
  CHECK(gelf[0]["fields"] == json{{"type", "info"}});  // normal: short_message only
  CHECK(gelf[1]["level"] == "warning");
  CHECK(gelf[1]["fields"]["type"] == "warn");
  CHECK(gelf[2]["message"] == "Application error");  // critical: camouflage
  CHECK(gelf[2]["level"] == "critical");
  CHECK(gelf[2]["fields"]["internal"]["short_message"] == "critical detail");
  CHECK(gelf[3]["message"] == "verbose error");  // error set to verbose: every field
  CHECK(gelf[3]["fields"]["full_message"] == "trace...");
  CHECK(gelf[3]["fields"]["[hidden]"] == "x");  // a secret in a field name
  CHECK(r.terminal.find("critical detail") == std::string::npos);
  for (const auto& e : r.events) CHECK(e.dump().find("Pa55word_x9") == std::string::npos);
  // stdout and stderr still count, once each, after the exit.
  const auto out = from(r.events, "stdout");
  REQUIRE(out.size() == 1);
  CHECK(out[0]["message"] == "printed on stdout");
  CHECK(from(r.events, "stderr").at(0)["message"] == "printed on stderr");
  CHECK(out[0]["seq"].get<int>() > gelf[3]["seq"].get<int>());
  const json c = counters(r.events);
  CHECK(c["received"] == 5);
  CHECK(c["hidden"] == 1);
  CHECK(c["invalid"] == 0);
  CHECK(c["transport"] == "tcp");
  // Nothing lost: a debug event whose text repeats none of its counters.
  const json counted = counters_event(r.events);
  CHECK(counted["level"] == "debug");
  CHECK_THAT(counted["message"].get<std::string>(),
             !Catch::Contains("bytes") && !Catch::Contains("received") && Catch::Contains("tcp"));
  CHECK(r.terminal.find("): closed") == std::string::npos);  // not shown without -v
}

TEST_CASE("GELF: logging.verbosity showing debug wins over the terminal's default",
          "[e2e][gelf][terminal]") {
  for (const std::string setting : {"normal", "verbose", "none"}) {
    INFO(setting);
    json doc = tcp_component({{{"short_message", "a debug detail"}, {"level", 7}}});
    doc["logging"]["verbosity"] = {{"debug", setting}};
    auto r = run_job(doc);  // no -v
    REQUIRE(r.exit_code == 0);
    const bool shown = r.terminal.find("DEBUG     [gelf] a debug detail") != std::string::npos;
    CHECK(shown == (setting != "none"));
    CHECK(r.terminal.find("): closed") == std::string::npos);  // runner's own debug: -v only
  }
}

TEST_CASE("GELF: the last error message is the user error when the component printed nothing",
          "[e2e][gelf]") {
  auto r =
      run_job(tcp_component({{{"short_message", "first problem"}, {"level", 3}},
                             {{"short_message", "Cannot connect to the database"}, {"level", 3}},
                             {{"short_message", "not valid"}, {"level", 9}}},
                            "exit 1"));
  CHECK(r.exit_code == 1);
  CHECK(r.result["message"] == "Cannot connect to the database");
  bool invalid_warned = false;
  for (const auto& e : from(r.events, "gelf"))
    invalid_warned =
        invalid_warned || e["message"].get<std::string>().rfind("Invalid message: ", 0) == 0;
  CHECK(invalid_warned);
}

TEST_CASE("GELF over HTTP and UDP (plain, zlib, chunked) from real containers", "[e2e][gelf]") {
  json http = {{"id", "test.gelf-http"},
               {"image", "runner-busybox:latest"},
               {"logging", {{"type", "gelf"}, {"gelf_server_type", "http"}}},
               {"command",
                {"sh", "-c",
                 "wget -q -O - --post-data='{\"short_message\":\"over http\",\"level\":5}' "
                 "http://$KBC_LOGGER_ADDR:$KBC_LOGGER_PORT/gelf; echo \"status $?\""}}};
  auto h = run_job(http);
  REQUIRE(h.exit_code == 0);
  REQUIRE(from(h.events, "gelf").size() == 1);
  CHECK(from(h.events, "gelf")[0]["message"] == "over http");
  CHECK(from(h.events, "gelf")[0]["level"] == "notice");
  CHECK(from(h.events, "stdout")[0]["message"] == "status 0");

  // node: plain, zlib, and a 100 KB zlib message of random text in 1420-byte chunks, shuffled.
  const std::string script = R"(
const dgram = require('dgram'), zlib = require('zlib'), crypto = require('crypto');
const s = dgram.createSocket('udp4');
const addr = process.env.KBC_LOGGER_ADDR, port = +process.env.KBC_LOGGER_PORT;
const send = (buf) => new Promise((ok) => s.send(buf, port, addr, ok));
(async () => {
  await send(Buffer.from(JSON.stringify({short_message: 'plain udp', level: 6})));
  await send(zlib.deflateSync(JSON.stringify({short_message: 'zlib udp', level: 4, _k: 'v'})));
  const big = zlib.deflateSync(JSON.stringify({short_message: 'big', level: 6,
      _blob: crypto.randomBytes(75000).toString('base64')}));
  const id = crypto.randomBytes(8), size = 1408, n = Math.ceil(big.length / size);
  const chunks = [];
  for (let i = 0; i < n; i++)
    chunks.push(Buffer.concat([Buffer.from([0x1e, 0x0f]), id, Buffer.from([i, n]), big.subarray(i * size, (i + 1) * size)]));
  chunks.reverse();
  for (const c of chunks) await send(c);
  console.log('chunks ' + n);
  s.close();
})();
)";
  json udp = {
      {"id", "test.gelf-udp"},
      {"image", "runner-node:latest"},
      {"logging",
       {{"type", "gelf"}, {"gelf_server_type", "udp"}, {"verbosity", {{"info", "verbose"}}}}},
      {"command", {"node", "-e", script}}};
  auto u = run_job(udp);
  REQUIRE(u.exit_code == 0);
  const auto gelf = from(u.events, "gelf");
  REQUIRE(gelf.size() == 3);
  CHECK(gelf[0]["message"] == "plain udp");
  CHECK(gelf[1]["message"] == "zlib udp");
  CHECK(gelf[2]["message"] == "big");
  CHECK(gelf[2]["fields"]["blob"].get<std::string>().size() == 100000);
  CHECK(counters(u.events)["transport"] == "udp");
  CHECK(counters(u.events)["received"] == 3);
}

TEST_CASE("GELF: messages from anyone but the job's container are dropped and counted",
          "[e2e][gelf]") {
  const std::string events = temp_file("", ".jsonl");
  json doc = tcp_component({},
                           "sleep 3; printf '{\"short_message\":\"from the "
                           "container\",\"level\":6}\\0' | nc $KBC_LOGGER_ADDR $KBC_LOGGER_PORT");
  CliProcess p({"run", temp_file(doc.dump()), "--events", events});
  std::string address;
  int port = 0;
  // Generous: on a loaded machine the engine may take seconds to create and start the container.
  for (int i = 0; i < 1500 && port == 0; ++i) {
    for (const auto& e : read_json_lines(events)) {
      const std::string m = e.value("message", "");
      const auto at = m.find("listening on ");
      if (at == std::string::npos) continue;
      const std::string where = m.substr(at + 13);
      address = where.substr(0, where.find(':'));
      port = std::stoi(where.substr(where.find(':') + 1));
    }
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(port != 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // the container is running
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  const std::string intruder = std::string(R"({"short_message":"from the host"})") + '\0';
  CHECK(::send(fd, intruder.data(), intruder.size(), MSG_NOSIGNAL) >= 0);
  ::close(fd);
  REQUIRE(p.wait() == 0);
  const auto all = read_json_lines(events);
  const auto gelf = from(all, "gelf");
  REQUIRE(gelf.size() == 1);
  CHECK(gelf[0]["message"] == "from the container");
  CHECK(counters(all)["dropped"].get<int>() >= 1);
  const json counted = counters_event(all);
  CHECK(counted["level"] == "warning");
  CHECK_THAT(counted["message"].get<std::string>(), Catch::Contains("dropped") &&
                                                        !Catch::Contains("invalid") &&
                                                        !Catch::Contains("bytes"));
  std::filesystem::remove(events);
}

TEST_CASE("GELF: a message over 200 KB fails the job as a user error", "[e2e][gelf]") {
  json doc = {{"id", "test.gelf-big"},
              {"image", "runner-busybox:latest"},
              {"logging", {{"type", "gelf"}}},
              {"command",
               {"sh", "-c",
                "{ printf '{\"short_message\":\"'; head -c 250000 /dev/zero | tr '\\0' a; "
                "printf '\"}\\0'; } | nc $KBC_LOGGER_ADDR $KBC_LOGGER_PORT; sleep 30"}}};
  auto r = run_job(doc);
  CHECK(r.exit_code == 1);
  CHECK(r.result["error_type"] == "user");
  CHECK_THAT(r.result["message"].get<std::string>(), Catch::Contains("over the 200 KB limit"));
  CHECK(r.result["duration"].get<double>() < 20);  // the container was stopped at once
}

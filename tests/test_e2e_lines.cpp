// End-to-end: a line is one event whatever the timing of the writes. Real containers write half
// a line, wait, and write the rest, the way block-buffered programs (sed, Python, Java on a pipe)
// end their writes anywhere; the --events file, the terminal (a file and a real pseudo-terminal),
// Kestra outputs and GELF mode's final stdout event must all see the line whole.
#include "cli_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;

namespace {

struct Run {
  int exit_code;
  std::string terminal;
  std::vector<json> records;
  json result;
};

std::string component_file(const std::string& script, const json& extra = json::object()) {
  json doc = {
      {"id", "test.lines"}, {"image", "runner-busybox:latest"}, {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

Run run(const std::string& script, const json& extra = json::object()) {
  const std::string events = temp_file("", ".jsonl");
  auto r = run_cli({"run", component_file(script, extra), "--events", events});
  Run out{r.exit_code, r.out, runner_test::read_json_lines(events), json()};
  if (!out.records.empty()) out.result = out.records.back();
  std::filesystem::remove(events);
  return out;
}

std::vector<json> events_of(const std::vector<json>& records, const std::string& source) {
  std::vector<json> out;
  for (const auto& r : records)
    if (r["kind"] == "event" && r["source"] == source) out.push_back(r);
  return out;
}

std::vector<std::string> messages(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["message"].get<std::string>());
  return out;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Seconds since midnight UTC of an event's "2026-11-21T12:03:38.668087Z".
double seconds_of_day(const json& event) {
  const std::string t = event["time"];
  return std::stod(t.substr(11, 2)) * 3600 + std::stod(t.substr(14, 2)) * 60 +
         std::stod(t.substr(17, 9));
}

double seconds_between(const json& earlier, const json& later) {
  double d = seconds_of_day(later) - seconds_of_day(earlier);
  return d < 0 ? d + 86400 : d;
}

json runner_event_starting(const std::vector<json>& records, const std::string& prefix) {
  for (const auto& e : events_of(records, "runner"))
    if (e["message"].get<std::string>().rfind(prefix, 0) == 0) return e;
  return json();
}

}  // namespace

TEST_CASE("a line written in two halves a second apart is one event", "[e2e][lines]") {
  auto r = run("printf 'first half, '; sleep 1; printf 'second half\\n'; printf 'next\\n'");
  REQUIRE(r.exit_code == 0);
  CHECK(messages(events_of(r.records, "stdout")) ==
        std::vector<std::string>{"first half, second half", "next"});
  // The terminal here is a file: it shows the line once, whole.
  CHECK(count(r.terminal, "first half") == 1);
  CHECK_THAT(r.terminal, Catch::Contains("INFO      first half, second half\n"));
}

TEST_CASE("a JSON log line written in two halves is one parseable event", "[e2e][lines]") {
  auto r = run(
      "printf '{\"level\":\"info\",\"message\":\"loaded\",'; sleep 1; printf '\"rows\":123}\\n'");
  REQUIRE(r.exit_code == 0);
  const auto out = events_of(r.records, "stdout");
  REQUIRE(out.size() == 1);
  const json line = json::parse(out[0]["message"].get<std::string>(), nullptr, false);
  REQUIRE(line.is_object());
  CHECK(line["message"] == "loaded");
  CHECK(line["rows"] == 123);
}

TEST_CASE("a Kestra outputs line written in two halves is parsed", "[e2e][lines][kestra]") {
  auto r =
      run("printf '::{\"outputs\":{\"rows\":'; sleep 1; printf '123,\"table\":\"orders\"}}::\\n'");
  REQUIRE(r.exit_code == 0);
  CHECK(r.result["outputs"] == json{{"rows", 123}, {"table", "orders"}});
  CHECK(events_of(r.records, "stdout").empty());
  CHECK(events_of(r.records, "kestra").empty());  // no warning about a broken line
  CHECK(r.terminal.find("::{") == std::string::npos);
}

TEST_CASE("a CRLF split between the CR and the LF ends one line", "[e2e][lines]") {
  auto r = run("printf 'half '; sleep 1; printf 'rest\\r'; sleep 1; printf '\\nnext\\r\\n'");
  REQUIRE(r.exit_code == 0);
  CHECK(messages(events_of(r.records, "stdout")) == std::vector<std::string>{"half rest", "next"});
}

TEST_CASE("a prompt without a newline is delivered when the component exits", "[e2e][lines]") {
  auto r = run("printf 'Password: '; sleep 3; exit 1");
  CHECK(r.exit_code == 1);
  CHECK(messages(events_of(r.records, "stdout")) == std::vector<std::string>{"Password: "});
  CHECK(count(r.terminal, "INFO      Password: ") == 1);
}

TEST_CASE("a partial line becomes an event after 10 s of quiet, the rest a new one",
          "[e2e][lines]") {
  // The documented quiet period: long enough that a slow writer's next block never cuts a line,
  // short enough that a stalled prompt reaches the store and followers during the run.
  auto r = run("printf 'Waiting for the lock... '; sleep 13; echo; echo done");
  REQUIRE(r.exit_code == 0);
  const auto out = events_of(r.records, "stdout");
  // The newline that ends the delivered text adds no empty event.
  REQUIRE(messages(out) == std::vector<std::string>{"Waiting for the lock... ", "done"});
  // Delivered 10 s after it was printed, so about 3 s before "done" (13 s after it): not after
  // 200 ms (13 s before "done") and not only with the next line.
  const json started = runner_event_starting(r.records, "Running component");
  REQUIRE(started.is_object());
  CHECK(seconds_between(started, out[0]) > 9.5);
  const double before_done = seconds_between(out[0], out[1]);
  CHECK(before_done > 1.5);
  CHECK(before_done < 5.0);
}

TEST_CASE("GELF mode's final stdout event holds the lines whole", "[e2e][lines][gelf]") {
  auto r = run("printf 'half '; sleep 1; echo rest; echo more", {{"logging", {{"type", "gelf"}}}});
  REQUIRE(r.exit_code == 0);
  const auto out = events_of(r.records, "stdout");
  REQUIRE(out.size() == 1);
  CHECK(out[0]["message"] == "half rest\nmore");
}

TEST_CASE("on a terminal a partial line is shown live and redrawn whole when it completes",
          "[e2e][lines][terminal]") {
  const std::string events = temp_file("", ".jsonl");
  auto r = runner_test::run_cli_in_terminal(
      {"run", component_file("printf 'Password: '; sleep 2; echo ok; echo after"), "--events",
       events});
  const auto records = runner_test::read_json_lines(events);
  std::filesystem::remove(events);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(messages(events_of(records, "stdout")) ==
        std::vector<std::string>{"Password: ok", "after"});
  // Drawn without a newline while the component waits, erased (CR, erase line) when the line
  // completes, then written whole as one line.
  const auto shown = r.out.find("INFO      Password: \r\x1b[K");
  REQUIRE(shown != std::string::npos);
  const auto whole = r.out.find("INFO      Password: ok\n");
  REQUIRE(whole != std::string::npos);
  CHECK(shown < whole);
  CHECK(r.out.find("INFO      ok") == std::string::npos);
  CHECK(r.out.find("INFO      Password: \n") == std::string::npos);
}

// Issue 15: the 64 KiB cut is for live lines; the final stderr event keeps the bytes as sent.
TEST_CASE("a 300,000-byte stderr without newlines is one error event, byte for byte",
          "[e2e][lines]") {
  const auto r = run("head -c 300000 /dev/zero | tr '\\0' 'e' >&2; exit 1");
  CHECK(r.exit_code == 1);
  const auto errors = events_of(r.records, "stderr");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["message"] == std::string(300000, 'e'));
}

// Issue 15: a progress bar redrawn with '\r' is stored in its final state, one event.
TEST_CASE("a progress bar redrawn with a carriage return is one event in its final state",
          "[e2e][lines][cr]") {
  const auto r =
      run("for p in 25 50 75 100; do printf '\\rprogress %3d%%' $p; sleep 0.3; done; echo; "
          "echo next");
  REQUIRE(r.exit_code == 0);
  CHECK(messages(events_of(r.records, "stdout")) ==
        std::vector<std::string>{"progress 100%", "next"});
  // On a real terminal the row shows the states in place after the prefix: no raw '\r' from
  // the component reaches it, only runner's own redraws ("\r\x1b[K" before its prefix).
  const auto t = runner_test::run_cli_in_terminal(
      {"run",
       component_file("for p in 25 50 100; do printf '\\rprogress %3d%%' $p; sleep 0.5; "
                      "done; echo"),
       "--store", "none"});
  REQUIRE(t.exit_code == 0);
  CHECK_THAT(t.out, Catch::Contains("INFO      progress  50%"));
  CHECK_THAT(t.out, Catch::Contains("INFO      progress 100%\n"));
  for (std::size_t at = t.out.find('\r'); at != std::string::npos; at = t.out.find('\r', at + 1))
    CHECK(t.out.compare(at, 4, "\r\x1b[K") == 0);
}

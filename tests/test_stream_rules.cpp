// StreamRules: Keboola's rules for a container's streams, without Docker. Live stdout lines are
// events as they arrive, GELF mode holds stdout for one event after the exit, stderr is always
// one error event at the end, Kestra protocol lines on either stream become events, records and
// results shared by the job's runs, and the kept texts are what the outcome's message needs.
#include "runner/stream_rules.hpp"

#include "logging/event_sink.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using runner::StreamRules;
using runner::logging::Level;
using namespace std::chrono_literals;

namespace {

struct Seen {
  std::string what;  // "event", "record", "partial"
  Level level = Level::info;
  std::string source;  // event source, record kind
  std::string text;    // message, record members, partial text
  nlohmann::json fields;
  std::uint64_t sequence = 0;
};

class RecordingSink final : public runner::logging::EventSink {
 public:
  std::vector<Seen> seen;
  void write(const runner::logging::Event& e) override {
    seen.push_back({"event", e.level, std::string(e.source), std::string(e.message),
                    e.fields != nullptr ? *e.fields : nlohmann::json(), e.sequence});
  }
  void write_record(const runner::logging::Record& r) override {
    seen.push_back(
        {"record", Level::info, std::string(r.kind), std::string(r.members), {}, r.sequence});
  }
  void show_partial(const runner::logging::PartialLine& p) override {
    seen.push_back({"partial", p.level, std::string(p.source), std::string(p.text), {}, 0});
  }
  void finish(const runner::logging::JobSummary&) override {}
  std::vector<std::string> events(std::string_view source) const {
    std::vector<std::string> out;
    for (const auto& s : seen)
      if (s.what == "event" && s.source == source) out.push_back(s.text);
    return out;
  }
  std::vector<std::string> records(std::string_view kind) const {
    std::vector<std::string> out;
    for (const auto& s : seen)
      if (s.what == "record" && s.source == kind) out.push_back(s.text);
    return out;
  }
};

struct Fixture {
  RecordingSink sink;
  runner::logging::EventLog events{"job-1"};
  runner::logging::KestraResults results;
  Fixture() { events.add_sink(sink); }
};

const auto t0 = StreamRules::Clock::now();

}  // namespace

TEST_CASE("live stdout: each line is an info event as it arrives", "[runner][rules]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::live, f.results);
  rules.feed_stdout("one\ntw", t0);
  CHECK(f.sink.events("stdout") == std::vector<std::string>{"one"});
  rules.feed_stdout("o\n", t0 + 1ms);
  CHECK(f.sink.events("stdout") == std::vector<std::string>{"one", "two"});
  rules.end_streams();
  const auto texts = rules.report_held();
  CHECK(texts.stdout_text == "one\ntwo\n");    // kept for the outcome's message
  CHECK(f.sink.events("stdout").size() == 2);  // nothing more after the exit
}

TEST_CASE("live stdout shows a line still being written, held stdout never does",
          "[runner][rules]") {
  for (const auto mode : {StreamRules::StdoutMode::live, StreamRules::StdoutMode::held}) {
    Fixture f;
    StreamRules rules(f.events, {}, mode, f.results);
    rules.feed_stdout("Password: ", t0);
    rules.flush_if_due(t0 + 300ms);
    std::vector<std::string> partials;
    for (const auto& s : f.sink.seen)
      if (s.what == "partial") partials.push_back(s.text);
    if (mode == StreamRules::StdoutMode::live) {
      CHECK(partials == std::vector<std::string>{"Password: "});
      CHECK(rules.next_flush().has_value());
    } else {
      CHECK(partials.empty());
      CHECK_FALSE(rules.next_flush().has_value());
    }
  }
}

TEST_CASE("GELF mode holds stdout for one info event after the exit", "[runner][rules]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::held, f.results);
  rules.feed_stdout("started\n", t0);
  rules.feed_stdout("done\n\n", t0 + 1s);
  rules.flush_if_due(t0 + 1h);
  CHECK(f.sink.events("stdout").empty());
  rules.end_streams();
  const auto texts = rules.report_held();
  CHECK(f.sink.events("stdout") == std::vector<std::string>{"started\ndone"});
  CHECK(texts.stdout_text == "started\ndone\n\n");
}

TEST_CASE("stderr is one error event after the exit, in both modes", "[runner][rules]") {
  for (const auto mode : {StreamRules::StdoutMode::live, StreamRules::StdoutMode::held}) {
    Fixture f;
    StreamRules rules(f.events, {}, mode, f.results);
    rules.feed_stderr("Traceback (most recent call last):\n", t0);
    rules.feed_stdout("out\n", t0);
    rules.feed_stderr("ValueError: bad", t0);  // no newline at the end
    CHECK(f.sink.events("stderr").empty());
    rules.end_streams();
    const auto texts = rules.report_held();
    REQUIRE(f.sink.events("stderr") ==
            std::vector<std::string>{"Traceback (most recent call last):\nValueError: bad"});
    CHECK(f.sink.seen.back().level == Level::error);
    CHECK(texts.stderr_text == "Traceback (most recent call last):\nValueError: bad\n");
  }
}

// The 64 KiB split is for live lines only: the final stderr event (and held stdout) keeps the
// bytes as sent, with and without secrets to mask (two paths through the pipeline).
TEST_CASE("a 300,000-byte stderr line without newlines comes back byte for byte",
          "[runner][rules]") {
  std::string sent;
  for (std::size_t i = 0; i < 300000; ++i) sent += static_cast<char>('a' + i % 26);
  for (const bool with_secrets : {false, true}) {
    INFO(with_secrets);
    Fixture f;
    const runner::secrets::Masker masker =
        with_secrets ? runner::secrets::Masker({"Sup3rS3cret"}) : runner::secrets::Masker();
    StreamRules rules(f.events, masker, StreamRules::StdoutMode::held, f.results);
    for (std::size_t at = 0; at < sent.size(); at += 4096)
      rules.feed_stderr(std::string_view(sent).substr(at, 4096), t0);
    rules.feed_stdout(sent, t0);
    rules.end_streams();
    const auto texts = rules.report_held();
    REQUIRE(f.sink.events("stderr").size() == 1);
    CHECK(f.sink.events("stderr")[0].size() == sent.size());
    CHECK(f.sink.events("stderr")[0] == sent);
    CHECK(texts.stderr_text == sent + "\n");
    CHECK(f.sink.events("stdout") == std::vector<std::string>{sent});
  }
  // Live stdout: the pieces are events of their own, and the kept text is still whole.
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::live, f.results);
  rules.feed_stdout(sent + "\nnext\n", t0);
  rules.end_streams();
  const auto texts = rules.report_held();
  const auto events = f.sink.events("stdout");
  REQUIRE(events.size() == 6);  // 4 full 64 KiB pieces, the rest, and "next"
  CHECK(events[0].size() == 64 * 1024);
  CHECK(events[5] == "next");
  // The tail kept for the message (16 KiB) runs from the long line into the next, unbroken.
  CHECK_THAT(texts.stdout_text, Catch::EndsWith(sent.substr(sent.size() - 1000) + "\nnext\n"));
}

TEST_CASE("empty streams report nothing", "[runner][rules]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::held, f.results);
  rules.feed_stdout("\n\n", t0);
  rules.end_streams();
  const auto texts = rules.report_held();
  CHECK(f.sink.seen.empty());
  CHECK(texts.stderr_text.empty());
}

TEST_CASE("Kestra lines on either stream become events, records and shared results",
          "[runner][rules][kestra]") {
  Fixture f;
  {
    StreamRules first(f.events, {}, StreamRules::StdoutMode::live, f.results);
    first.feed_stdout(R"(::{"logs":[{"level":"WARN","message":"slow"}]}::)"
                      "\n",
                      t0);
    first.feed_stderr(R"(::{"outputs":{"a":1,"b":"x"}}::)"
                      "\n",
                      t0);
    first.feed_stdout(R"(::{"metrics":[{"name":"rows","type":"counter","value":2}]}::)"
                      "\n",
                      t0);
    first.end_streams();
    const auto texts = first.report_held();
    CHECK(texts.stdout_text.empty());  // protocol lines are not text
    CHECK(texts.stderr_text.empty());
  }
  // A second container run of the same job (a processor, a row) adds to the same results.
  {
    StreamRules second(f.events, {}, StreamRules::StdoutMode::live, f.results);
    second.feed_stdout(
        R"(::{"outputs":{"a":2},"metrics":[{"name":"rows","type":"counter","value":3}]}::)"
        "\n",
        t0);
    second.end_streams();
    second.report_held();
  }
  REQUIRE(f.sink.events("kestra") == std::vector<std::string>{"slow"});
  CHECK(f.sink.seen.front().level == Level::warning);
  CHECK(f.sink.records("output") == std::vector<std::string>{R"("name":"a","value":1)",
                                                             R"("name":"b","value":"x")",
                                                             R"("name":"a","value":2)"});
  CHECK(f.sink.records("metric").size() == 2);
  CHECK(f.results.outputs() == nlohmann::json{{"a", 2}, {"b", "x"}});
  REQUIRE(f.results.metrics().size() == 1);
  CHECK(f.results.metrics()[0]["value"] == 5);
  // One event log: sequence numbers continue across the runs.
  std::uint64_t previous = 0;
  for (const auto& s : f.sink.seen) {
    CHECK(s.sequence == previous + 1);
    previous = s.sequence;
  }
}

TEST_CASE("a bad protocol line is a warning carrying the line", "[runner][rules][kestra]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::live, f.results);
  rules.feed_stdout(R"(::{"metrics":[{"name":"x","type":"histogram","value":1}]}::)"
                    "\n",
                    t0);
  rules.end_streams();
  rules.report_held();
  REQUIRE(f.sink.seen.size() == 1);
  CHECK(f.sink.seen[0].level == Level::warning);
  CHECK(f.sink.seen[0].source == "kestra");
  CHECK_THAT(f.sink.seen[0].text, Catch::Contains("histogram"));
  CHECK(f.sink.seen[0].fields["line"] ==
        R"(::{"metrics":[{"name":"x","type":"histogram","value":1}]}::)");
}

// Issue 15: text that only looks like a protocol block comes back as the stdout events it was.
TEST_CASE("a block that is not protocol gives its lines back as events, after one warning",
          "[runner][rules][kestra]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::live, f.results);
  std::string text = "before\n::{ this starts like a block\n";
  for (int i = 1; i <= 8; ++i) text += "ordinary line " + std::to_string(i) + "\n";
  rules.feed_stdout(text, t0);
  rules.flush_if_due(t0 + 2s);  // 1 s without output: the block is given back
  rules.feed_stdout("after\n", t0 + 3s);
  rules.end_streams();
  rules.report_held();
  std::vector<std::string> expected = {"before", "::{ this starts like a block"};
  for (int i = 1; i <= 8; ++i) expected.push_back("ordinary line " + std::to_string(i));
  expected.push_back("after");
  CHECK(f.sink.events("stdout") == expected);
  const auto warnings = f.sink.events("kestra");
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::StartsWith("Invalid Kestra protocol block (9 lines)"));
}

TEST_CASE("bare JSON that is not valid protocol is plain text, without a warning",
          "[runner][rules][kestra]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::live, f.results);
  rules.feed_stdout("{\"metrics\":{\"cpu\":0.5}}\n", t0);
  rules.end_streams();
  rules.report_held();
  CHECK(f.sink.events("stdout") == std::vector<std::string>{R"({"metrics":{"cpu":0.5}})"});
  CHECK(f.sink.events("kestra").empty());
}

TEST_CASE("with the protocol turned off, protocol lines are ordinary output",
          "[runner][rules][kestra]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::live, f.results);
  rules.disable_protocol();
  rules.feed_stdout("::{\"outputs\":{\"a\":1}}::\n::{\n", t0);
  rules.end_streams();
  rules.report_held();
  CHECK(f.sink.events("stdout") == std::vector<std::string>{R"(::{"outputs":{"a":1}}::)", "::{"});
  CHECK(f.results.outputs().empty());
  CHECK(f.sink.events("kestra").empty());
}

TEST_CASE("Kestra.assets() are kept in the results", "[runner][rules][kestra]") {
  Fixture f;
  StreamRules rules(f.events, runner::secrets::Masker({"Sup3rS3cret"}),
                    StreamRules::StdoutMode::live, f.results);
  rules.feed_stdout(
      R"(::{"assets":[{"id":"orders","type":"io.kestra.plugin.ee.assets.Table","metadata":{"pw":"Sup3rS3cret"}}]}::)"
      "\n",
      t0);
  rules.end_streams();
  rules.report_held();
  REQUIRE(f.results.assets().size() == 1);
  CHECK(f.results.assets()[0]["id"] == "orders");
  CHECK(f.results.assets()[0]["metadata"]["pw"] == "[hidden]");
  CHECK(f.sink.events("kestra").empty());
}

TEST_CASE("live stdout keeps 16 KiB head and tail for the message, held stdout 1 MiB",
          "[runner][rules]") {
  const std::string line(1000, 'x');
  for (const auto mode : {StreamRules::StdoutMode::live, StreamRules::StdoutMode::held}) {
    Fixture f;
    StreamRules rules(f.events, {}, mode, f.results);
    for (int i = 0; i < 100; ++i) rules.feed_stdout(line + "\n", t0);
    rules.end_streams();
    const auto texts = rules.report_held();
    if (mode == StreamRules::StdoutMode::live) {
      CHECK(texts.stdout_text.size() < 40 * 1024);
      CHECK_THAT(texts.stdout_text, Catch::Contains("omitted"));
    } else {
      CHECK(texts.stdout_text.size() == 100 * 1001);
    }
  }
}

TEST_CASE("secrets never reach an event, a record or the kept texts", "[runner][rules][secrets]") {
  Fixture f;
  const runner::secrets::Masker masker(std::vector<std::string>{"hunter2"});
  StreamRules rules(f.events, masker, StreamRules::StdoutMode::live, f.results);
  rules.feed_stdout("pw=hun", t0);
  rules.feed_stdout("ter2\n::{\"outputs\":{\"p\":\"hunter2!\"}}::\n", t0);
  rules.feed_stderr("failed with hunter2\n", t0);
  rules.end_streams();
  const auto texts = rules.report_held();
  CHECK(f.sink.events("stdout") == std::vector<std::string>{"pw=[hidden]"});
  CHECK(f.results.outputs() == nlohmann::json{{"p", "[hidden]!"}});
  CHECK(texts.stderr_text == "failed with [hidden]\n");
  for (const auto& s : f.sink.seen) CHECK(s.text.find("hunter2") == std::string::npos);
}

TEST_CASE("response mode (a sync action) keeps stdout byte for byte and never as an event",
          "[runner][rules][action]") {
  Fixture f;
  StreamRules rules(f.events, runner::secrets::Masker({"s3cret"}),
                    StreamRules::StdoutMode::response, f.results);
  // A long line over the splitter's 64 KiB and a secret split across two reads.
  const std::string long_value(100000, 'x');
  rules.feed_stdout("{\"a\": \"" + long_value + "\",\n \"token\": \"s3c", t0);
  rules.feed_stdout("ret\"}\n", t0 + 1ms);
  rules.feed_stderr("warning\n", t0 + 2ms);
  rules.end_streams();
  const auto texts = rules.report_held();
  CHECK(texts.stdout_text == "{\"a\": \"" + long_value + "\",\n \"token\": \"[hidden]\"}\n");
  CHECK(texts.stdout_omitted == 0);
  CHECK(f.sink.events("stdout").empty());
  CHECK(f.sink.events("stderr") == std::vector<std::string>{"warning"});
}

TEST_CASE("response mode counts what is over the response limit", "[runner][rules][action]") {
  Fixture f;
  StreamRules rules(f.events, {}, StreamRules::StdoutMode::response, f.results);
  const std::string chunk(1024 * 1024, 'y');
  for (int i = 0; i < 3; ++i) rules.feed_stdout(chunk, t0);
  rules.end_streams();
  const auto texts = rules.report_held();
  CHECK(texts.stdout_text.size() == 2 * 1024 * 1024);
  CHECK(texts.stdout_omitted == 1024 * 1024);
}

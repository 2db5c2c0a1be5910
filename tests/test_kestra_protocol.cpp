// KestraLineParser: a table of lines and their exact parse (the Node and Python clients' formats,
// shell echoes from the docs, escapes, markers, bare JSON, wrong types), multi-line blocks and
// their bounds, the level, number and ISO-8601 duration helpers, and the fast path checked
// against the nlohmann path on thousands of mutated lines.
#include "logging/kestra_protocol.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <random>
#include <string>
#include <vector>

using runner::logging::KestraCallbacks;
using runner::logging::KestraLineParser;
using runner::logging::KestraMetric;
using runner::logging::Level;
using runner::logging::level_name;
using runner::logging::parse_iso8601_duration;
using runner::logging::parse_kestra_level;
using runner::logging::parse_numeric_string;

namespace {

// Every callback as one readable record, in call order.
struct Recorder {
  std::vector<std::string> got;
  KestraLineParser parser;

  explicit Recorder(bool fast_path = true)
      : parser(
            KestraCallbacks{
                .on_text =
                    [this](std::string_view line) { got.push_back("text " + std::string(line)); },
                .on_log =
                    [this](Level level, std::string_view message) {
                      got.push_back("log " + std::string(level_name(level)) + " " +
                                    std::string(message));
                    },
                .on_outputs =
                    [this](const nlohmann::json& outputs) {
                      got.push_back("outputs " + outputs.dump());
                    },
                .on_metric =
                    [this](const KestraMetric& m) {
                      got.push_back(fmt::format("metric {} {} {} {}{}", m.type, m.name, m.value,
                                                m.tags.dump(),
                                                m.description.empty() ? "" : " " + m.description));
                    },
                .on_asset =
                    [this](const nlohmann::json& asset) { got.push_back("asset " + asset.dump()); },
                .on_warning =
                    [this](std::string message, std::string_view original) {
                      got.push_back("warning " + message + " | " + std::string(original));
                    },
            },
            fast_path) {}

  std::vector<std::string> parse(const std::vector<std::string>& lines) {
    got.clear();
    for (const auto& line : lines) parser.line(line);
    parser.finish();
    return got;
  }
};

using Records = std::vector<std::string>;

}  // namespace

TEST_CASE("a table of single lines and their exact parse", "[kestra]") {
  struct Row {
    std::string line;
    Records expected;
  };
  const std::vector<Row> table = {
      // Ordinary text, including near misses.
      {"hello world", {"text hello world"}},
      {"", {"text "}},
      {":", {"text :"}},
      {"::", {"text ::"}},
      {"::not json", {"text ::not json"}},
      {"{", {"text {"}},
      {" ::{\"logs\":[{\"level\":\"INFO\",\"message\":\"x\"}]}::",
       {"text  ::{\"logs\":[{\"level\":\"INFO\",\"message\":\"x\"}]}::"}},
      // A trailing space: it opens a block that never closes; given back with one warning.
      {"::{\"outputs\":{\"a\":1}}:: ",
       {"warning Invalid Kestra protocol block (1 line): not closed by a line ending with "
        "\"}::\"; its lines are logged as ordinary output | ::{\"outputs\":{\"a\":1}}:: ",
        "text ::{\"outputs\":{\"a\":1}}:: "}},
      // Kestra's Node client (compact JSON).
      {R"(::{"logs":[{"level":"INFO","message":"hello from node"}]}::)",
       {"log info hello from node"}},
      {R"(::{"logs":[{"level":"WARN","message":"careful"}]}::)", {"log warning careful"}},
      {R"(::{"logs":[{"level":"ERROR","message":"bad"}]}::)", {"log error bad"}},
      {R"(::{"logs":[{"level":"TRACE","message":"t"},{"level":"DEBUG","message":"d"}]}::)",
       {"log debug t", "log debug d"}},
      {R"(::{"outputs":{"a":1}}::)", {R"(outputs {"a":1})"}},
      {R"(::{"metrics":[{"name":"rows","type":"counter","value":5,"tags":{"p":"a"}}]}::)",
       {R"(metric counter rows 5 {"p":"a"})"}},
      {R"(::{"metrics":[{"name":"t","type":"timer","value":1.25,"tags":{}}]}::)",
       {"metric timer t 1.25 {}"}},
      // Python client: json.dumps spacing, timestamp prefix, WARNING and CRITICAL.
      {R"(::{"logs": [{"level": "INFO", "message": "2024-05-01 10:00:00,123 hello"}]}::)",
       {"log info 2024-05-01 10:00:00,123 hello"}},
      {R"(::{"logs": [{"level": "WARNING", "message": "w"}]}::)", {"log warning w"}},
      {R"(::{"logs": [{"level": "CRITICAL", "message": "c"}]}::)", {"log critical c"}},
      {R"(::{"outputs": {"partitions": ["file_1.parquet", "file_2.parquet"]}}::)",
       {R"(outputs {"partitions":["file_1.parquet","file_2.parquet"]})"}},
      {R"(::{"metrics": [{"name": "nr_rows", "type": "counter", "value": 7, "tags": {"partition": "file_1"}}]}::)",
       {R"(metric counter nr_rows 7 {"partition":"file_1"})"}},
      // The docs' shell examples.
      {R"(::{"logs": [{"level":"DEBUG","message":"Hello World from logs!"},{"level":"INFO","message":"Hello World!"}]}::)",
       {"log debug Hello World from logs!", "log info Hello World!"}},
      {R"(::{"outputs":{"test":"value","int":2,"bool":true,"float":3.65}}::)",
       {R"(outputs {"bool":true,"float":3.65,"int":2,"test":"value"})"}},
      {R"(::{"metrics":[{"name":"count","type":"counter","value":1,"tags":{"tag1":"i","tag2":"win"}}]}::)",
       {R"(metric counter count 1 {"tag1":"i","tag2":"win"})"}},
      {R"(::{"metrics":[{"name":"time","type":"timer","value":2.12,"tags":{"tag1":"i","tag2":"destroy"}}]}::)",
       {R"(metric timer time 2.12 {"tag1":"i","tag2":"destroy"})"}},
      // Keboola / syslog level names, any case; a missing level is info.
      {R"(::{"logs":[{"level":"notice","message":"n"},{"level":"Alert","message":"a"},{"level":"EMERGENCY","message":"e"},{"message":"none"}]}::)",
       {"log notice n", "log alert a", "log emergency e", "log info none"}},
      // All three keys on one line: logs, then outputs, then metrics.
      {R"(::{"metrics":[{"name":"m","type":"gauge","value":3}],"outputs":{"o":"v"},"logs":[{"level":"INFO","message":"l"}]}::)",
       {"log info l", R"(outputs {"o":"v"})", "metric gauge m 3 {}"}},
      // Escapes: \u2028 and \n inside the message arrive decoded.
      {R"(::{"logs":[{"level":"INFO","message":"a\u2028b\nc"}]}::)", {"log info a\u2028b\nc"}},
      // Metric extras: description, numeric strings, ISO durations, tag values stringified.
      {R"(::{"metrics":[{"name":"rows","type":"counter","value":"15","description":"rows read"}]}::)",
       {"metric counter rows 15 {} rows read"}},
      {R"(::{"metrics":[{"name":"d","type":"timer","value":"PT1.5S"},{"name":"d2","type":"timer","value":"P1DT2H"}]}::)",
       {"metric timer d 1.5 {}", "metric timer d2 93600 {}"}},
      {R"(::{"metrics":[{"name":"g","type":"GAUGE","value":" 2.5 ","tags":{"n":3,"b":true}}]}::)",
       {R"(metric gauge g 2.5 {"b":"true","n":"3"})"}},
      // Empty payload and nulls: consumed, nothing reported.
      {"::{}::", {}},
      {R"(::{"logs":null,"outputs":null}::)", {}},
      // Bare single-line JSON with only protocol keys is protocol; anything else is text.
      {R"({"outputs":{"b":2}})", {R"(outputs {"b":2})"}},
      {R"({"logs": [{"level": "ERROR", "message": "bare"}], "metrics": []})", {"log error bare"}},
      {R"({"user": 1})", {R"(text {"user": 1})"}},
      {R"({"level":"info","msg":"structured log"})",
       {R"(text {"level":"info","msg":"structured log"})"}},
      {R"({"outputs":{"a":1},"user":2})", {R"(text {"outputs":{"a":1},"user":2})"}},
      {R"({"outputs": {"a": 1)", {R"(text {"outputs": {"a": 1)"}},
      {R"({"outputs": {"a": 1}, })", {R"(text {"outputs": {"a": 1}, })"}},
      {"{}", {"text {}"}},
      {R"({"\u006cogs":[{"level":"INFO","message":"escaped key"}]})", {"log info escaped key"}},
      // A bare line that breaks a payload rule is someone's own JSON: text, no warning (a
      // Keboola component printing its metrics its own way).
      {R"({"outputs":[1]})", {R"(text {"outputs":[1]})"}},
      {R"({"metrics":{"cpu":0.5}})", {R"(text {"metrics":{"cpu":0.5}})"}},
      {R"({"logs":[{"level":"INFO"}]})", {R"(text {"logs":[{"level":"INFO"}]})"}},
      // Kestra.assets() of @kestra-io/libs 2.x: an array of asset objects, or one object.
      {R"(::{"assets":[{"id":"orders","type":"io.kestra.plugin.ee.assets.Table"}]}::)",
       {R"(asset {"id":"orders","type":"io.kestra.plugin.ee.assets.Table"})"}},
      {R"(::{"assets":{"id":"vm-1"}}::)", {R"(asset {"id":"vm-1"})"}},
      {R"({"assets":[{"id":"a"},{"id":"b"}]})", {R"(asset {"id":"a"})", R"(asset {"id":"b"})"}},
  };
  for (const Row& row : table) {
    Recorder recorder;
    INFO("line: " << row.line);
    CHECK(recorder.parse({row.line}) == row.expected);
  }
}

TEST_CASE("bad protocol lines give one warning carrying the whole line", "[kestra]") {
  struct Row {
    std::string line;
    Records expected;
  };
  const std::vector<Row> table =
      {
          // Invalid JSON inside the markers; the column counts from the start of the line.
          {R"(::{"logs":[}::)",
           {R"(warning Invalid Kestra protocol line: invalid JSON at column 12: syntax error while parsing value - unexpected '}'; expected '[', '{', or a literal | ::{"logs":[}::)"}},
          {R"(::{"metrics":[{"name":"c","type":"counter","value":1e999}]}::)",
           {R"(warning Invalid Kestra protocol line: invalid JSON: number overflow parsing '1e999' | ::{"metrics":[{"name":"c","type":"counter","value":1e999}]}::)"}},
          // Two markers on one line: Kestra's greedy regex takes the whole line, the JSON is
          // invalid.
          {R"(::{"a":1}::  ::{"b":2}::)",
           {R"(warning Invalid Kestra protocol line: invalid JSON at column 10: syntax error while parsing value - unexpected ':'; expected end of input | ::{"a":1}::  ::{"b":2}::)"}},
          // Wrong types.
          {R"(::{"logs":"hello"}::)",
           {R"(warning Invalid Kestra protocol line: logs: expected an array, got "hello" | ::{"logs":"hello"}::)"}},
          {R"(::{"logs":[{"level":"INFO","message":42}]}::)",
           {R"(warning Invalid Kestra protocol line: logs[0].message: expected a string, got 42 | ::{"logs":[{"level":"INFO","message":42}]}::)"}},
          {R"(::{"logs":["just text"]}::)",
           {R"(warning Invalid Kestra protocol line: logs[0]: expected an object, got "just text" | ::{"logs":["just text"]}::)"}},
          {R"(::{"outputs":"x"}::)",
           {R"(warning Invalid Kestra protocol line: outputs: expected an object, got "x" | ::{"outputs":"x"}::)"}},
          {R"(::{"metrics":[{"name":"ok","type":"counter","value":true}]}::)",
           {R"(warning Invalid Kestra protocol line: metrics[0].value: expected a number or numeric string, got true | ::{"metrics":[{"name":"ok","type":"counter","value":true}]}::)"}},
          {R"(::{"metrics":[{"name":"h","type":"histogram","value":1}]}::)",
           {R"(warning Invalid Kestra protocol line: metrics[0].type: expected counter, gauge or timer, got "histogram" | ::{"metrics":[{"name":"h","type":"histogram","value":1}]}::)"}},
          {R"(::{"metrics":[{"type":"timer","value":"soon"}]}::)",
           {R"(warning Invalid Kestra protocol line: metrics[0].name: expected a non-empty string, missing; metrics[0].value: expected seconds (a number, numeric string or ISO-8601 duration), got "soon" | ::{"metrics":[{"type":"timer","value":"soon"}]}::)"}},
          {R"(::{"metrics":[{"name":"c","type":"counter","value":"PT1S"}]}::)",
           {R"(warning Invalid Kestra protocol line: metrics[0].value: expected a number or numeric string, got "PT1S" | ::{"metrics":[{"name":"c","type":"counter","value":"PT1S"}]}::)"}},
          {R"(::{"metrics":[{"name":"c","type":"counter","value":1,"tags":{"a":{"b":1}}}]}::)",
           {R"(warning Invalid Kestra protocol line: metrics[0].tags.a: expected a string, got an object | ::{"metrics":[{"name":"c","type":"counter","value":1,"tags":{"a":{"b":1}}}]}::)"}},
          {R"(::{"output":{"a":1}}::)",
           {R"(warning Invalid Kestra protocol line: unknown key "output" (expected logs, outputs, metrics or assets) | ::{"output":{"a":1}}::)"}},
          {R"(::{"assets":"orders"}::)",
           {R"(warning Invalid Kestra protocol line: assets: expected an array of objects, got "orders" | ::{"assets":"orders"}::)"}},
          {R"(::{"assets":[{"id":"a"},2]}::)",
           {R"(asset {"id":"a"})",
            R"(warning Invalid Kestra protocol line: assets[1]: expected an object, got 2 | ::{"assets":[{"id":"a"},2]}::)"}},
          // Partly bad: the good parts are emitted, then one warning lists every problem.
          {R"(::{"logs":[{"level":"INFO","message":"kept"},{"level":"INFO"},{"level":"VERBOSE","message":"as info"}],"metrics":[{"name":"r","type":"counter","value":2},{"name":"h","type":"histogram","value":1}]}::)",
           {"log info kept", "log info as info", "metric counter r 2 {}", R"(warning Invalid Kestra protocol line: logs[1].message: missing; logs[2].level: unknown level "VERBOSE"; used INFO; metrics[1].type: expected counter, gauge or timer, got "histogram" | ::{"logs":[{"level":"INFO","message":"kept"},{"level":"INFO"},{"level":"VERBOSE","message":"as info"}],"metrics":[{"name":"r","type":"counter","value":2},{"name":"h","type":"histogram","value":1}]}::)"}},
      };
  for (const Row& row : table) {
    Recorder recorder;
    INFO("line: " << row.line);
    CHECK(recorder.parse({row.line}) == row.expected);
  }
}

TEST_CASE("many problems on one line are listed up to five", "[kestra]") {
  const std::string line = R"(::{"logs":[1,2,3,4,5,6,7]}::)";
  Recorder recorder;
  const Records got = recorder.parse({line});
  REQUIRE(got.size() == 1);
  CHECK(got[0] ==
        "warning Invalid Kestra protocol line: logs[0]: expected an object, got 1; logs[1]: "
        "expected an object, got 2; logs[2]: expected an object, got 3; logs[3]: expected an "
        "object, got 4; logs[4]: expected an object, got 5; and 2 more | " +
            line);
}

TEST_CASE("a 60 KB message on one line is parsed whole", "[kestra]") {
  std::string message;
  for (int i = 0; message.size() < 60000; ++i) message += fmt::format("chunk {} \u00e9\u2028 ", i);
  const std::string line = R"(::{"logs":[{"level":"INFO","message":")" + message + R"("}]}::)";
  Recorder recorder;
  CHECK(recorder.parse({line}) == Records{"log info " + message});

  const std::string bare = R"({"outputs":{"big":")" + message + R"("}})";
  CHECK(recorder.parse({bare}) == Records{"outputs " + nlohmann::json{{"big", message}}.dump()});
}

TEST_CASE("a multi-line block is gathered and parsed", "[kestra]") {
  Recorder recorder;
  CHECK(recorder.parse({"before", "::{", R"(  "logs": [)",
                        R"(    {"level": "DEBUG", "message": "Hello World from logs!"},)",
                        R"(    {"level": "INFO", "message": "Hello World!"})", "  ]", "}::",
                        "after"}) == Records{"text before", "log debug Hello World from logs!",
                                             "log info Hello World!", "text after"});
  // Not JSON: one warning (quoting the first line), then the lines as they were, in order.
  CHECK(recorder.parse({R"(::{"outputs": {)", R"("a": 1,)", R"("b": "two"}})", R"(}::)"}) ==
        Records{"warning Invalid Kestra protocol block (4 lines): invalid JSON at line 4, "
                "column 1: syntax error while parsing value - unexpected '}'; expected end of "
                "input; its lines are logged as ordinary output | ::{\"outputs\": {",
                R"(text ::{"outputs": {)", R"(text "a": 1,)", R"(text "b": "two"}})", "text }::"});
  CHECK(recorder.parse({R"(::{"outputs": {)", R"("a": 1}}::)"}) == Records{R"(outputs {"a":1})"});
}

TEST_CASE("a line longer than the splitter's piece size is put back together", "[kestra]") {
  // The splitter cuts a 100 KB line into 64 KiB pieces; the pieces arrive as lines.
  const std::string message(100000, 'x');
  const std::string line = R"(::{"logs":[{"level":"INFO","message":")" + message + R"("}]}::)";
  Recorder recorder;
  CHECK(recorder.parse({line.substr(0, 65536), line.substr(65536)}) ==
        Records{"log info " + message});
}

TEST_CASE("an unclosed block is given back as text at finish()", "[kestra]") {
  Recorder recorder;
  CHECK(recorder.parse({"one", "::{\"logs\": [", "two", "three"}) ==
        Records{"text one",
                "warning Invalid Kestra protocol block (3 lines): not closed by a line ending "
                "with \"}::\"; its lines are logged as ordinary output | ::{\"logs\": [",
                "text ::{\"logs\": [", "text two", "text three"});
  // flush_block() does the same on demand; holding_block() tells whether lines are held.
  recorder.got.clear();
  recorder.parser.line("::{");
  CHECK(recorder.parser.holding_block());
  CHECK(recorder.got.empty());
  recorder.parser.flush_block();
  CHECK_FALSE(recorder.parser.holding_block());
  REQUIRE(recorder.got.size() == 2);
  CHECK(recorder.got[1] == "text ::{");
}

TEST_CASE("a marker line inside a block starts afresh", "[kestra]") {
  Recorder recorder;
  CHECK(recorder.parse({"::{ oops", "plain", R"(::{"outputs":{"a":1}}::)", "tail"}) ==
        Records{"warning Invalid Kestra protocol block (2 lines): a line starting \"::{\" came "
                "before it closed; its lines are logged as ordinary output | ::{ oops",
                "text ::{ oops", "text plain", R"(outputs {"a":1})", "text tail"});
}

TEST_CASE("a block past 10,000 lines or 1 MiB is given back as text", "[kestra]") {
  Recorder recorder;
  std::vector<std::string> lines = {"::{\"logs\": ["};
  for (int i = 0; i < 10000; ++i) lines.push_back(fmt::format("line {}", i));
  lines.push_back("]}::");
  const Records got = recorder.parse(lines);
  REQUIRE(got.size() == lines.size() + 1);  // one warning first
  CHECK(got[0].starts_with("warning Invalid Kestra protocol block (10000 lines): longer than"));
  for (std::size_t i = 0; i < lines.size(); ++i) REQUIRE(got[i + 1] == "text " + lines[i]);

  // 10,000 lines including opener and closer still parse.
  std::vector<std::string> fits = {"::{\"outputs\": {\"n\": ["};
  for (int i = 0; i < 9997; ++i) fits.push_back(fmt::format("{},", i));
  fits.push_back("0");
  fits.push_back("]}}::");
  REQUIRE(fits.size() == 10000);
  const Records fit_got = recorder.parse(fits);
  REQUIRE(fit_got.size() == 1);
  CHECK(fit_got[0].starts_with("outputs {\"n\":[0,1,2,"));

  // Bytes: 20 lines of 60,000 bytes pass 1 MiB.
  std::vector<std::string> big = {"::{\"outputs\": {\"s\": \""};
  for (int i = 0; i < 20; ++i) big.push_back(std::string(60000, 'a'));
  big.push_back("\"}}::");
  const Records big_got = recorder.parse(big);
  REQUIRE(big_got.size() == big.size() + 1);
  CHECK(big_got[1] == "text " + big.front());
  CHECK(big_got.back() == "text " + big.back());
}

// The issue's case: a line that only starts like a block, then ordinary lines, gives them all
// back in order after one warning, and nothing is folded into it.
TEST_CASE("text that only looks like a block comes back as the lines it was", "[kestra]") {
  Recorder recorder;
  std::vector<std::string> lines = {"::{ this starts like a block"};
  for (int i = 1; i <= 8; ++i) lines.push_back(fmt::format("ordinary line {}", i));
  const Records got = recorder.parse(lines);
  REQUIRE(got.size() == 1 + lines.size());
  CHECK(got[0] ==
        "warning Invalid Kestra protocol block (9 lines): not closed by a line ending with "
        "\"}::\"; its lines are logged as ordinary output | ::{ this starts like a block");
  for (std::size_t i = 0; i < lines.size(); ++i) CHECK(got[i + 1] == "text " + lines[i]);
  // The same block closed by a "}::" that does not make it JSON: lines back, one warning.
  lines.push_back("the end }::");
  const Records closed = recorder.parse(lines);
  REQUIRE(closed.size() == 1 + lines.size());
  CHECK(closed[0].starts_with("warning Invalid Kestra protocol block (10 lines): invalid JSON"));
  CHECK(closed.back() == "text the end }::");
}

TEST_CASE("with the protocol turned off every line is text", "[kestra]") {
  Recorder recorder;
  recorder.parser.set_enabled(false);
  const std::vector<std::string> lines = {R"(::{"outputs":{"a":1}}::)", R"({"outputs":{"b":2}})",
                                          "::{", R"("logs": []})", "}::"};
  Records expected;
  for (const auto& line : lines) expected.push_back("text " + line);
  CHECK(recorder.parse(lines) == expected);
  CHECK_FALSE(recorder.parser.holding_block());
}

TEST_CASE("a payload nested too deep is refused, not a crash", "[kestra]") {
  const std::string deep =
      R"(::{"outputs":{"a":)" + std::string(20000, '[') + std::string(20000, ']') + "}}::";
  Recorder recorder;
  const Records got = recorder.parse({deep});
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "warning Invalid Kestra protocol line: nested deeper than 128 levels | " + deep);
  // 100 levels are fine.
  const std::string nested =
      R"(::{"outputs":{"a":)" + std::string(100, '[') + std::string(100, ']') + "}}::";
  const Records nested_got = recorder.parse({nested});
  REQUIRE(nested_got.size() == 1);
  CHECK(nested_got[0].starts_with("outputs {\"a\":[[[["));
  const std::string bare =
      R"({"outputs":{"a":)" + std::string(200, '[') + std::string(200, ']') + "}}";
  CHECK(recorder.parse({bare}) == Records{"text " + bare});
}

TEST_CASE("level names", "[kestra]") {
  CHECK(parse_kestra_level("TRACE") == Level::debug);
  CHECK(parse_kestra_level("debug") == Level::debug);
  CHECK(parse_kestra_level("Info") == Level::info);
  CHECK(parse_kestra_level("NOTICE") == Level::notice);
  CHECK(parse_kestra_level("WARN") == Level::warning);
  CHECK(parse_kestra_level("warning") == Level::warning);
  CHECK(parse_kestra_level("ERROR") == Level::error);
  CHECK(parse_kestra_level("critical") == Level::critical);
  CHECK(parse_kestra_level("FATAL") == Level::critical);
  CHECK(parse_kestra_level("alert") == Level::alert);
  CHECK(parse_kestra_level("EMERGENCY") == Level::emergency);
  CHECK_FALSE(parse_kestra_level("VERBOSE").has_value());
  CHECK_FALSE(parse_kestra_level("").has_value());
  CHECK_FALSE(parse_kestra_level("informational").has_value());
}

TEST_CASE("ISO-8601 durations and numeric strings", "[kestra]") {
  CHECK(parse_iso8601_duration("PT1.5S") == 1.5);
  CHECK(parse_iso8601_duration("PT2M") == 120);
  CHECK(parse_iso8601_duration("PT1H30M") == 5400);
  CHECK(parse_iso8601_duration("P1DT2H") == 93600);
  CHECK(parse_iso8601_duration("P2D") == 172800);
  CHECK(parse_iso8601_duration("P1W") == 604800);
  CHECK(parse_iso8601_duration("pt0,25s") == 0.25);
  CHECK(parse_iso8601_duration("PT1H0.5M") == 3630);
  CHECK(parse_iso8601_duration(" PT1S ") == 1);  // surrounding spaces are trimmed
  for (const char* bad :
       {"", "P", "PT", "P1", "PT1", "1S", "PT1.S", "PT.5S", "P1Y", "P1M", "PT1S2M", "PT1M1M",
        "PT1.5M2S", "P1DT", "PT-1S", "-PT1S", "PT1X", "P1H", "PTT1S"}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601_duration(bad).has_value());
  }
  CHECK(parse_numeric_string("15") == 15);
  CHECK(parse_numeric_string(" 2.5 ") == 2.5);
  CHECK(parse_numeric_string("-3") == -3);
  CHECK(parse_numeric_string("+4") == 4);
  CHECK(parse_numeric_string("1e3") == 1000);
  for (const char* bad : {"", " ", "abc", "1x", "nan", "inf", "0x10", "1 2", "--1"}) {
    INFO(bad);
    CHECK_FALSE(parse_numeric_string(bad).has_value());
  }
}

TEST_CASE("without callbacks nothing breaks", "[kestra]") {
  KestraLineParser parser(KestraCallbacks{});
  parser.line("text");
  parser.line(R"(::{"logs":[{"level":"INFO","message":"x"}],"outputs":{"a":1}}::)");
  parser.line(R"(::{"metrics":[{"name":"c","type":"counter","value":1}]}::)");
  parser.line("::{bad}::");
  parser.line("::{");
  parser.finish();
  CHECK_FALSE(parser.holding_block());
}

TEST_CASE("the fast path and the nlohmann path agree on every line", "[kestra]") {
  // Valid payloads of many shapes, then every one-byte mutation of each: deleted, doubled or
  // replaced by a JSON-significant byte. Both parsers must report exactly the same.
  const std::vector<std::string> seeds = {
      R"(::{"logs":[{"level":"INFO","message":"hello from node"}]}::)",
      R"(::{"logs": [{"level": "WARNING", "message": "2024-05-01 10:00:00,123 caf\u00e9 \ud83d\ude00"}]}::)",
      R"(::{"logs":[{"level":null,"message":"a\"b\\c\/d\b\f\n\r\t\u0000\u2028","extra":[1,{"x":null}]}]}::)",
      R"(::{"outputs":{"test":"value","int":2,"bool":true,"float":3.65,"list":[1,-0.5e-3,"x"],"n":null}}::)",
      R"(::{"outputs":{}}::)",
      R"(::{"outputs":{"u":18446744073709551615,"u2":18446744073709551616,"i":-9223372036854775808,"i2":-9223372036854775809,"z":-0,"f":1.0,"e":1E5,"d":{"a":1,"a":2},"s":"\u00e9\ud83d\ude00"}}::)",
      R"(::{"metrics":[{"name":"rows","type":"counter","value":5,"tags":{"p":"a","flag":true}}]}::)",
      R"(::{"metrics":[{"name":"t","type":"Timer","value":"PT1M30.5S","tags":null,"description":null},{"value":"12","name":"g","type":"gauge","description":"d"}]}::)",
      R"(::{"metrics":[{"name":"n","type":"counter","value":1,"tags":{"num":3,"f":2.50}}]}::)",
      R"(::{"logs":[],"metrics":[],"outputs":null}::)",
      R"(::{"logs":[{"level":"info","message":"dup"}],"logs":[{"level":"info","message":"dup2"}]}::)",
      R"(::{"\u006cogs":[{"level":"ERROR","message":"escaped key"}]}::)",
      R"(::{ "logs" : [ { "message" : "spaced" , "level" : "DEBUG" } ] , "outputs" : { "a" : [ ] } }::)",
      R"({"logs":[{"level":"INFO","message":"bare"}],"metrics":[{"name":"c","type":"counter","value":1e2}]})",
      R"({"outputs":{"a":{"b":{"c":[true,false,null]}}}})",
      R"(::{"metrics":[{"name":"big","type":"counter","value":123456789012345678901234567890}]}::)",
  };
  std::vector<std::string> lines;
  const std::string replacements = "\"\\,:{}[]1 ne";
  for (const std::string& seed : seeds) {
    lines.push_back(seed);
    for (std::size_t i = 0; i < seed.size(); ++i) {
      lines.push_back(seed.substr(0, i) + seed.substr(i + 1));
      lines.push_back(seed.substr(0, i) + seed[i] + seed.substr(i));
      for (const char c : replacements) {
        if (c != seed[i]) lines.push_back(seed.substr(0, i) + c + seed.substr(i + 1));
      }
    }
  }
  Recorder fast(true);
  Recorder reference(false);
  // The seeds but the ones with duplicate top-level keys or numeric tags are read by the fast
  // path itself (duplicates inside outputs are kept as nlohmann keeps them: the last wins).
  for (const std::string& seed : seeds) {
    INFO("seed: " << seed);
    const std::uint64_t before = fast.parser.fast_path_payloads();
    fast.parse({seed});
    const bool declined_by_design =
        seed.find("dup2") != std::string::npos || seed.find("\"num\":3") != std::string::npos;
    CHECK(fast.parser.fast_path_payloads() == before + (declined_by_design ? 0 : 1));
  }
  std::size_t protocol_lines = 0;
  for (const std::string& line : lines) {
    INFO("line: " << line);
    const Records fast_got = fast.parse({line});
    const Records reference_got = reference.parse({line});
    REQUIRE(fast_got == reference_got);
    if (fast_got.empty() || !fast_got.front().starts_with("text ")) ++protocol_lines;
  }
  CHECK(protocol_lines > lines.size() / 2);
  CHECK(fast.parser.fast_path_payloads() > lines.size() / 10);
  CHECK(reference.parser.fast_path_payloads() == 0);

  // Random multi-byte edits, with bytes that break UTF-8 too (lines reach the parser as valid
  // UTF-8 from the splitter, but the parser must not depend on it).
  std::mt19937 random(20261201);
  const std::string bytes = "\"\\,:{}[]0123456789-+.eE ntrufals_\x80\xBF\xC3\xED\xF0\x00\x7f";
  for (int round = 0; round < 20000; ++round) {
    std::string line = seeds[random() % seeds.size()];
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && line.size() > 6; ++e) {
      const std::size_t at = 2 + random() % (line.size() - 4);  // keep the markers mostly
      const char c = bytes[random() % bytes.size()];
      switch (random() % 3) {
        case 0:
          line[at] = c;
          break;
        case 1:
          line.insert(line.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          line.erase(at, 1 + random() % 6);
          break;
      }
    }
    INFO("line: " << line);
    REQUIRE(fast.parse({line}) == reference.parse({line}));
  }
}

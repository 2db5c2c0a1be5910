// GELF message validation: a table of valid and invalid messages with the exact reason, the
// treatment of real clients' extras (nulls, booleans, nested objects, level strings), additional
// field naming, and the syslog level mappings. Then simdjson's reading against nlohmann's (the
// reference): a corpus of real clients' messages, every one-byte mutation of each and random
// multi-byte mutations must give the same result on both readers.
#include <catch2/catch.hpp>

#include "logging/gelf/message.hpp"

#include <cmath>
#include <random>
#include <string>
#include <variant>
#include <vector>

using runner::logging::Level;
using runner::logging::gelf::event_level_from_syslog;
using runner::logging::gelf::GelfMessage;
using runner::logging::gelf::InvalidGelfMessage;
using runner::logging::gelf::keboola_event_type;
using runner::logging::gelf::parse_gelf_message;

namespace {

GelfMessage valid(const std::string& text) {
  auto result = parse_gelf_message(text);
  if (const auto* failure = std::get_if<InvalidGelfMessage>(&result)) {
    FAIL("unexpectedly invalid: " << failure->reason << " for " << text);
  }
  return std::get<GelfMessage>(std::move(result));
}

std::string reason(const std::string& text) {
  auto result = parse_gelf_message(text);
  if (std::holds_alternative<GelfMessage>(result)) return "(valid)";
  return std::get<InvalidGelfMessage>(result).reason;
}

}  // namespace

TEST_CASE("gelf message: invalid messages and their reasons", "[gelf]") {
  struct Case {
    const char* json;
    const char* reason;
  };
  const Case cases[] = {
      {R"({"host":"h"})", "Invalid message: missing short_message"},
      {R"({"short_message":null})", "Invalid message: missing short_message"},
      {R"({"short_message":42})", "Invalid message: short_message must be a string"},
      {R"({"message":{"a":1}})", "Invalid message: message must be a string"},
      {R"({"short_message":"m","host":5})", "Invalid message: host must be a string"},
      {R"({"short_message":"m","host":"  "})", "Invalid message: host is empty"},
      {R"({"short_message":"m","level":8})",
       "Invalid message: level must be an integer from 0 to 7"},
      {R"({"short_message":"m","level":-1})",
       "Invalid message: level must be an integer from 0 to 7"},
      {R"({"short_message":"m","level":"8"})",
       "Invalid message: level must be an integer from 0 to 7"},
      {R"({"short_message":"m","level":"error"})",
       "Invalid message: level must be an integer from 0 to 7"},
      {R"({"short_message":"m","level":2.5})",
       "Invalid message: level must be an integer from 0 to 7"},
      {R"({"short_message":"m","level":true})",
       "Invalid message: level must be an integer from 0 to 7"},
      {R"({"short_message":"m","timestamp":"yesterday"})",
       "Invalid message: timestamp must be a number"},
      {R"({"short_message":"m","timestamp":true})", "Invalid message: timestamp must be a number"},
      {R"({"short_message":"m","timestamp":"inf"})", "Invalid message: timestamp must be a number"},
      {R"({"short_message":"m","version":"2.0"})",
       R"(Invalid message: version must be "1.0" or "1.1")"},
      {R"({"short_message":"m","version":1.1})",
       R"(Invalid message: version must be "1.0" or "1.1")"},
      {R"({"short_message":"m","_id":"x"})",
       R"(Invalid message: additional field "_id" is not allowed)"},
      {R"({"short_message":"m","_bad name":"x"})",
       R"(Invalid message: invalid additional field name "_bad name")"},
      {R"({"short_message":"m","_":"x"})", R"(Invalid message: invalid additional field name "_")"},
      {R"({"short_message":"m","_é":"x"})",
       R"(Invalid message: invalid additional field name "_é")"},
      {R"(["short_message"])", "Invalid message: not a JSON object"},
      {R"("just a string")", "Invalid message: not a JSON object"},
      {R"(42)", "Invalid message: not a JSON object"},
      {R"({"short_message":"m")", "Invalid message: not valid JSON (parse error at byte 21)"},
      {"", "Invalid message: not valid JSON (parse error at byte 1)"},
      {R"({"short_message":"m","timestamp":1e999})",
       "Invalid message: not valid JSON (a number is out of range)"},
      {"{\"short_message\":\"\xff\"}", "Invalid message: not valid JSON (parse error at byte 19)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json);
    CHECK(reason(c.json) == c.reason);
  }
}

TEST_CASE("gelf message: a long bad field name is shown cut", "[gelf]") {
  const std::string name = "_" + std::string(100, 'x') + " y";
  CHECK(reason(R"({"short_message":"m",")" + name + R"(":1})") ==
        "Invalid message: invalid additional field name \"_" + std::string(63, 'x') + "\"");
}

TEST_CASE("gelf message: nesting is limited to 64 levels", "[gelf]") {
  const auto nested = [](int depth) {
    return R"({"short_message":"m","_deep":)" + std::string(depth - 1, '[') +
           std::string(depth - 1, ']') + "}";
  };
  valid(nested(64));
  CHECK(reason(nested(65)) == "Invalid message: nested deeper than 64 levels");
  // Brackets inside strings do not count.
  valid(R"({"short_message":")" + std::string(1000, '[') + R"(\""})");
}

TEST_CASE("gelf message: the standard fields", "[gelf]") {
  const GelfMessage message =
      valid(R"({"version":"1.1","host":"example.org","short_message":"A short message",)"
            R"("full_message":"Backtrace here\n\nmore stuff","timestamp":1385053862.3072,)"
            R"("level":4,"_user_id":9001,"_some_info":"foo","_some_env_var":"bar"})");
  CHECK(message.short_message == "A short message");
  CHECK(message.full_message == "Backtrace here\n\nmore stuff");
  CHECK(message.host == "example.org");
  REQUIRE(message.timestamp);
  CHECK(*message.timestamp == Approx(1385053862.3072));
  CHECK(message.level == 4);
  CHECK(message.additional ==
        nlohmann::json({{"user_id", 9001}, {"some_info", "foo"}, {"some_env_var", "bar"}}));
}

TEST_CASE("gelf message: lenient forms real clients send", "[gelf]") {
  SECTION("defaults") {
    const GelfMessage message = valid(R"({"short_message":""})");
    CHECK(message.short_message.empty());
    CHECK(message.level == 1);
    CHECK(!message.timestamp);
    CHECK(message.host.empty());
    CHECK(message.additional.empty());
  }
  SECTION("message in place of short_message") {
    CHECK(valid(R"({"message":"text"})").short_message == "text");
    const GelfMessage both = valid(R"({"short_message":"short","message":"long"})");
    CHECK(both.short_message == "short");
    CHECK(!both.additional.contains("message"));
  }
  SECTION("level as a numeric string or an integral float") {
    CHECK(valid(R"({"short_message":"m","level":"3"})").level == 3);
    CHECK(valid(R"({"short_message":"m","level":" 7 "})").level == 7);
    CHECK(valid(R"({"short_message":"m","level":0})").level == 0);
    CHECK(valid(R"({"short_message":"m","level":6.0})").level == 6);
    CHECK(valid(R"({"short_message":"m","level":null})").level == 1);
  }
  SECTION("timestamp in any numeric form, or a numeric string") {
    CHECK(*valid(R"({"short_message":"m","timestamp":1.605e9})").timestamp == 1.605e9);
    CHECK(*valid(R"({"short_message":"m","timestamp":1605000000})").timestamp == 1605000000.0);
    CHECK(*valid(R"({"short_message":"m","timestamp":"1605000000.25"})").timestamp ==
          1605000000.25);
    CHECK(*valid(R"({"short_message":"m","timestamp":"1.605E9"})").timestamp == 1.605e9);
    CHECK(!valid(R"({"short_message":"m","timestamp":0})").timestamp);
    CHECK(!valid(R"({"short_message":"m","timestamp":-5})").timestamp);
    CHECK(!valid(R"({"short_message":"m","timestamp":null})").timestamp);
  }
  SECTION("version 1.0 and 1.1") {
    valid(R"({"short_message":"m","version":"1.0"})");
    valid(R"({"short_message":"m","version":"1.1"})");
  }
  SECTION("nulls, booleans, arrays and nested objects are kept as they are") {
    const GelfMessage message = valid(
        R"({"short_message":"m","_null":null,"_flag":true,"_list":[1,"a",null],)"
        R"("_nested":{"some":{"structured":"data"}},"_dotted.name-x":1.5,"_under_score":"u"})");
    CHECK(message.additional["null"].is_null());
    CHECK(message.additional["flag"] == true);
    CHECK(message.additional["list"] == nlohmann::json::parse(R"([1,"a",null])"));
    CHECK(message.additional["nested"] ==
          nlohmann::json::parse(R"({"some":{"structured":"data"}})"));
    CHECK(message.additional["dotted.name-x"] == 1.5);
    CHECK(message.additional["under_score"] == "u");
  }
  SECTION("other fields keep their names; an underscored field wins a clash") {
    const GelfMessage message =
        valid(R"({"short_message":"m","facility":"app","line":12,"file":"a.py","custom":"c",)"
              R"("_custom":"underscored","id":"plain id is allowed"})");
    CHECK(message.additional["facility"] == "app");
    CHECK(message.additional["line"] == 12);
    CHECK(message.additional["file"] == "a.py");
    CHECK(message.additional["custom"] == "underscored");
    CHECK(message.additional["id"] == "plain id is allowed");
    CHECK(!message.additional.contains("short_message"));
  }
  SECTION("full_message that is not a string is kept as JSON text") {
    CHECK(valid(R"({"short_message":"m","full_message":{"a":1}})").full_message == R"({"a":1})");
    CHECK(valid(R"({"short_message":"m","full_message":12})").full_message == "12");
  }
}

TEST_CASE("gelf message: syslog levels map to event levels and Keboola types", "[gelf]") {
  CHECK(event_level_from_syslog(0) == Level::emergency);
  CHECK(event_level_from_syslog(1) == Level::alert);
  CHECK(event_level_from_syslog(2) == Level::critical);
  CHECK(event_level_from_syslog(3) == Level::error);
  CHECK(event_level_from_syslog(4) == Level::warning);
  CHECK(event_level_from_syslog(5) == Level::notice);
  CHECK(event_level_from_syslog(6) == Level::info);
  CHECK(event_level_from_syslog(7) == Level::debug);
  const char* types[] = {"error", "error", "error", "error", "warn", "warn", "info", "info"};
  for (int level = 0; level <= 7; ++level) CHECK(keboola_event_type(level) == types[level]);
}

// --- simdjson's reading against nlohmann's ------------------------------------------------------

namespace {

using nlohmann::json;
using runner::logging::gelf::GelfJsonReader;
using runner::logging::gelf::GelfMessageParser;

// Equal values of equal JSON types: 1, 1u and 1.0 differ here (json's == calls them equal), and so
// do 0.0 and -0.0.
bool same_json(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    auto other = b.begin();
    for (auto it = a.begin(); it != a.end(); ++it, ++other) {
      if (it.key() != other.key() || !same_json(it.value(), other.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_json(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_number_float()) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    return x == y && std::signbit(x) == std::signbit(y);
  }
  return a == b;
}

std::string describe(const std::variant<GelfMessage, InvalidGelfMessage>& result) {
  if (const auto* failure = std::get_if<InvalidGelfMessage>(&result)) return failure->reason;
  const GelfMessage& m = std::get<GelfMessage>(result);
  json shown = {{"short_message", m.short_message},
                {"full_message", m.full_message},
                {"host", m.host},
                {"timestamp", m.timestamp ? json(*m.timestamp) : json()},
                {"level", m.level},
                {"additional", m.additional}};
  return shown.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool same_message(const GelfMessage& a, const GelfMessage& b) {
  return a.short_message == b.short_message && a.full_message == b.full_message &&
         a.host == b.host && a.timestamp == b.timestamp && a.level == b.level &&
         same_json(a.additional, b.additional);
}

bool same_result(const std::variant<GelfMessage, InvalidGelfMessage>& a,
                 const std::variant<GelfMessage, InvalidGelfMessage>& b) {
  if (a.index() != b.index()) return false;
  if (const auto* failure = std::get_if<InvalidGelfMessage>(&a)) {
    return failure->reason == std::get<InvalidGelfMessage>(b).reason;
  }
  return same_message(std::get<GelfMessage>(a), std::get<GelfMessage>(b));
}

// Messages as real clients send them, and the lenient and unusual forms the rules cover.
const std::vector<std::string>& corpus() {
  static const std::vector<std::string> messages = {
      // graypy (Python json.dumps: ASCII only, so non-ASCII arrives as \u escapes).
      R"({"version": "1.0", "host": "app-1", "short_message": "User logged in", "full_message": "User logged in\nTraceback (most recent call last):\n  File \"app.py\", line 3", "timestamp": 1700000000.123456, "level": 6, "_facility": "app", "_file": "/srv/app.py", "_line": 42, "_function": "login", "_logger": "app.auth", "_thread_name": "MainThread", "_process_name": "MainProcess", "_pid": 4242, "_level_name": "INFO"})",
      R"({"version": "1.0", "host": "app-1", "short_message": "caf\u00e9 \ud83d\ude00 \u2028 \"q\" \\ \/", "timestamp": 1700000000.5, "level": 3, "_logger": "root", "_pid": 1})",
      // Docker's gelf log driver (Go: floats as 1.7e+09, <>& escaped).
      R"({"version":"1.1","host":"docker-host","short_message":"GET /health \u003c200\u003e \u0026 done","timestamp":1.700000000123e+09,"level":6,"_command":"/bin/sh -c 'python app.py'","_container_id":"8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f","_container_name":"web_1","_created":"2024-05-01T10:00:00.123456789Z","_image_id":"sha256:0123456789abcdef","_image_name":"python:3.12-slim","_tag":"8a1b2c3d4e5f"})",
      R"({"version":"1.1","host":"docker-host","short_message":"stderr line","timestamp":1714557600,"level":3,"_container_name":"worker","_tag":""})",
      // gelf-pro (Node JSON.stringify: raw UTF-8).
      R"({"version":"1.1","host":"node-1","timestamp":1700000000.123,"level":6,"short_message":"Příliš žluťoučký kůň 日本語 🎉","full_message":"a\tb","_env":"prod","_count":3,"_ratio":0.25,"_ok":true,"_missing":null,"_tags":["a","b"],"_meta":{"k":"v","n":[1,2.5,-3]}})",
      R"({"version":"1.1","host":"node-1","short_message":"message with level name","level":"3","_nested":{"deep":{"deeper":[[],{},[null]]}}})",
      // The benchmark's message.
      R"({"version":"1.1","host":"worker-07","short_message":"Extracted batch 1234567 of in.c-main.orders...............","timestamp":1700000000.125,"level":6,"_seq":1234567,"_component":"keboola.ex-db-snowflake","_job_id":"987654321","_thread":"extractor-3"})",
      // log4j2 GelfLayout / logstash shapes, deprecated and custom fields.
      R"({"version":"1.1","host":"java","short_message":"Started","timestamp":1700000000.001,"level":6,"_logger":"com.example.App","_thread":"main","facility":"gelf-java","line":12,"file":"App.java"})",
      R"({"short_message":"m","facility":"app","custom":"c","_custom":"underscored","id":"plain id"})",
      R"({"message":"only message","host":"h"})",
      R"({"short_message":"short","message":"long","host":"h","level":null,"timestamp":null,"version":null,"full_message":null})",
      R"({"short_message":null,"message":"from message"})",
      R"({"short_message":""})",
      // Level and timestamp forms.
      R"({"short_message":"m","level":" 7 ","timestamp":"1605000000.25"})",
      R"({"short_message":"m","level":6.0,"timestamp":"1.605E9"})",
      R"({"short_message":"m","level":0,"timestamp":0})",
      R"({"short_message":"m","level":7,"timestamp":-5})",
      R"({"short_message":"m","level":"\u0033","timestamp":"\u0031"})",
      R"({"short_message":"m","level":2.0e0,"timestamp":1e2})",
      R"({"short_message":"m","timestamp":18446744073709551615,"level":1.0e0})",
      // Numbers of every type nlohmann distinguishes.
      R"({"short_message":"m","_u":18446744073709551615,"_u2":18446744073709551616,"_i":-9223372036854775808,"_i2":-9223372036854775809,"_z":-0,"_f":1.0,"_e":1E5,"_neg":-0.0,"_small":1e-300,"_tiny":4.9e-324,"_under":1e-400,"_big":1.7976931348623157e308,"_huge":123456789012345678901234567890})",
      // Escapes, whitespace, keys.
      "{ \"short_message\" : "
      "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0000\\u001f\\u007f\\uFFFF\\uD800\\uDC00\\uDBFF\\uDFFF\" "
      ",\n\t\"host\"\r:\"h\" , \"_k\": \"\x7f\" }\n",
      R"({"short_message":"m","host":"h\u0020","full_message":{"a":[1,{"b":"c"}]},"_x":[]})",
      R"({"short_message":"m","full_message":12.50})",
      R"({"short_message":"m","full_message":true,"_dup":1,"_dup":2})",
      R"({"short_message":"m","version":"1.1","_a.b-c_d":1,"_A9":"x","":"empty key","_\u0061":1})",
      R"({"short_message":"m","_arr":[1,[2,[3,[4]]],"]","[\"x\\\""]})",
      "\xEF\xBB\xBF{\"short_message\":\"with a BOM\"}",
      "{\"short_message\":"
      "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xED\x9F\xBF\xEE\x80\x80\xF4\x8F\xBF\xBF\"}",
  };
  return messages;
}

std::vector<std::string> mutations_of(const std::string& seed) {
  static const std::string replacements = "\"\\,:{}[]01-.eE ntu_\x80\xC3\x1f";
  std::vector<std::string> out;
  for (std::size_t i = 0; i < seed.size(); ++i) {
    out.push_back(seed.substr(0, i) + seed.substr(i + 1));
    out.push_back(seed.substr(0, i) + seed[i] + seed.substr(i));
    for (const char c : replacements) {
      if (c != seed[i]) out.push_back(seed.substr(0, i) + c + seed.substr(i + 1));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("gelf message: simdjson reads what real clients send", "[gelf]") {
  GelfMessageParser parser;
  for (const std::string& text : corpus()) {
    INFO("message: " << text);
    GelfMessage message;
    const auto failure = parser.parse(text, message);
    const auto reference = parse_gelf_message(text, GelfJsonReader::nlohmann);
    REQUIRE(!failure);
    REQUIRE(std::holds_alternative<GelfMessage>(reference));
    CHECK(same_message(message, std::get<GelfMessage>(reference)));
    // Left to nlohmann by design: duplicate keys, a byte-order mark.
    const bool left_to_nlohmann =
        text.find("_dup") != std::string::npos || text.rfind("\xEF\xBB\xBF", 0) == 0;
    CHECK(parser.last_read_by_simdjson() == !left_to_nlohmann);
  }
}

TEST_CASE("gelf message: simdjson and nlohmann agree on mutated messages", "[gelf]") {
  std::size_t total = 0;
  std::size_t accepted = 0;
  std::size_t valid_count = 0;
  GelfMessageParser parser;
  GelfMessage reused;  // parse() reuses strings and map nodes
  for (const std::string& seed : corpus()) {
    std::vector<std::string> texts = mutations_of(seed);
    texts.push_back(seed);
    for (const std::string& text : texts) {
      ++total;
      const auto fast = parse_gelf_message(text, GelfJsonReader::simdjson);
      const auto reference = parse_gelf_message(text, GelfJsonReader::nlohmann);
      if (!same_result(fast, reference)) {
        FAIL("simdjson's reading differs for " << text << "\n  simdjson: " << describe(fast)
                                               << "\n  nlohmann: " << describe(reference));
      }
      if (std::holds_alternative<GelfMessage>(reference)) {
        ++valid_count;
        if (parser.parse(text, reused).has_value() ||
            !same_message(reused, std::get<GelfMessage>(reference))) {
          FAIL("reused message differs for " << text);
        }
        if (parser.last_read_by_simdjson()) ++accepted;
      }
    }
  }
  INFO("total " << total << ", valid " << valid_count << ", read by simdjson " << accepted);
  CHECK(total > 50000);
  CHECK(accepted > valid_count * 9 / 10);  // simdjson reads almost every valid variant itself
}

TEST_CASE("gelf message: random mutations agree between the paths", "[gelf]") {
  std::mt19937 random(20261121);
  const std::string bytes = "\"\\,:{}[]0123456789-+.eE ntrufals_\x80\xBF\xC3\xED\xF0\xF4\x00\x7f";
  std::size_t checked = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = corpus()[random() % corpus().size()];
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = random() % text.size();
      const char c = bytes[random() % bytes.size()];
      switch (random() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1 + random() % 8);
          break;
      }
    }
    const auto fast = parse_gelf_message(text, GelfJsonReader::simdjson);
    const auto reference = parse_gelf_message(text, GelfJsonReader::nlohmann);
    if (!same_result(fast, reference)) {
      FAIL("simdjson's reading differs for " << text << "\n  simdjson: " << describe(fast)
                                             << "\n  nlohmann: " << describe(reference));
    }
    ++checked;
  }
  CHECK(checked == 20000);
}

TEST_CASE("gelf message: an invalid message leaves the reused message as it was", "[gelf]") {
  GelfMessageParser parser;
  GelfMessage message;
  REQUIRE_FALSE(parser.parse(R"({"short_message":"first","_a":"x","_b":2})", message));
  CHECK(parser.parse(R"({"short_message":"second","_a":"y","level":9})", message));
  CHECK(message.short_message == "first");
  CHECK(message.additional == json({{"a", "x"}, {"b", 2}}));
  // A different shape into the same message: the old fields go, the new ones come.
  REQUIRE_FALSE(parser.parse(R"({"short_message":"third","_b":"now text","_c":1})", message));
  CHECK(message.short_message == "third");
  CHECK(same_json(message.additional, json({{"b", "now text"}, {"c", 1u}})));
}

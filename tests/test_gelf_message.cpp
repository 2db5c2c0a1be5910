// GELF message validation: a table of valid and invalid messages with the exact reason, the
// treatment of real clients' extras (nulls, booleans, nested objects, level strings), additional
// field naming, and the syslog level mappings.
#include <catch2/catch.hpp>

#include "logging/gelf/message.hpp"

#include <string>
#include <variant>

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

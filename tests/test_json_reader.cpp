// read_json: the bounded JSON entry point. Each hostile input from issue 11 is refused with the
// JSON path and a short excerpt, never a crash or the whole offending text.
#include "logging/json_reader.hpp"

#include <catch2/catch.hpp>

#include <string>

using nlohmann::json;
using runner::logging::json_deeper_than;
using runner::logging::JsonInputError;
using runner::logging::JsonLimits;
using runner::logging::read_json;

namespace {
JsonInputError refusal(const std::string& text, const JsonLimits& limits = {}) {
  try {
    read_json(text, limits);
  } catch (const JsonInputError& e) {
    return e;
  }
  FAIL("read_json accepted: " << text.substr(0, 80));
  return JsonInputError("", "");
}
}  // namespace

TEST_CASE("read_json reads ordinary documents like nlohmann's parse", "[logging][json]") {
  const std::string text =
      R"({"id":"a","n":[1,-2,3.5,18446744073709551615,1e300],"o":{"#k":null,"t":true},"s":"\u00e9"})";
  CHECK(read_json(text) == json::parse(text));
  CHECK(read_json("[]") == json::array());
  CHECK(read_json(" 7 ") == 7);
}

TEST_CASE("read_json refuses nesting deeper than the limit, iteratively", "[logging][json]") {
  // 100,000 levels: nlohmann builds this, but a copy or dump of it overflows the stack.
  const std::string deep =
      R"({"parameters":{"p":)" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  const auto e = refusal(deep);
  // Levels: the root object 1, parameters 2, p 3; the 257th is refused. The path is shortened
  // in its middle.
  CHECK_THAT(e.path(), Catch::StartsWith("$.parameters.p[0][0]") && Catch::EndsWith("[0][0]") &&
                           Catch::Contains("..."));
  CHECK(e.path().size() < 200);
  CHECK(e.reason() == "nested deeper than 256 levels of arrays and objects");
  CHECK(std::string(e.what()).size() < 3000);
  // Exactly at the limit is fine.
  JsonLimits limits;
  limits.max_depth = 3;
  CHECK(read_json("[[[1]]]", limits) == json::parse("[[[1]]]"));
  CHECK(refusal("[[[[1]]]]", limits).path() == "$[0][0][0]");
}

TEST_CASE("read_json refuses duplicate keys, naming the path", "[logging][json]") {
  auto e = refusal(R"({"id":"a","image":"reviewed:1","image":"evil:1"})");
  CHECK(e.path() == "$.image");
  CHECK_THAT(e.reason(), Catch::Contains("duplicate key") && Catch::Contains("\"image\""));
  e = refusal(R"({"parameters":{"list":[{"a":1,"a":2}]}})");
  CHECK(e.path() == "$.parameters.list[0].a");
  // The same key in different objects is fine.
  CHECK_NOTHROW(read_json(R"({"a":{"x":1},"b":{"x":2}})"));
  JsonLimits lax;
  lax.reject_duplicate_keys = false;
  CHECK(read_json(R"({"a":1,"a":2})", lax)["a"] == 1);  // the first one is kept
}

TEST_CASE("read_json refuses numbers out of range with a short excerpt", "[logging][json]") {
  auto e = refusal(R"({"limits":{"timeout":1e999999999}})");
  CHECK(e.path() == "$.limits.timeout");
  CHECK_THAT(e.reason(), Catch::Contains("out of range") && Catch::Contains("1e999999999"));
  const std::string huge(100000, '9');
  e = refusal(R"({"limits":{"timeout":)" + huge + "}}");
  CHECK(e.path() == "$.limits.timeout");
  CHECK_THAT(e.reason(), Catch::Contains("100000 characters"));
  CHECK(std::string(e.what()).size() < 200);  // not the whole number
  e = refusal("[0." + std::string(200, '0') + "1]");
  CHECK(e.path() == "$[0]");
  CHECK_NOTHROW(read_json("[-1.7976931348623157e308, 123456789012345678901234567890]"));
}

TEST_CASE("read_json reports syntax errors by line and column, shortly", "[logging][json]") {
  auto e = refusal("{\n  \"id\": \"a\",\n  \"image\" \"x\"\n}");
  CHECK(e.path() == "$");
  CHECK_THAT(e.reason(), Catch::StartsWith("not valid JSON at line 3, column"));
  // An unterminated 100,000-character string: nlohmann's token is all of it.
  e = refusal("{\"id\": \"" + std::string(100000, 'a'));
  CHECK(std::string(e.what()).size() < 400);
  // Invalid UTF-8 inside a string.
  e = refusal("[\"\xff\"]");
  CHECK(e.path() == "$");
}

TEST_CASE("read_json refuses a document over the size limit before parsing", "[logging][json]") {
  JsonLimits limits;
  limits.max_bytes = 10;
  const auto e = refusal("[1,2,3,4,5,6]", limits);
  CHECK_THAT(e.reason(), Catch::Contains("13 bytes, more than the limit of 10"));
}

TEST_CASE("paths shorten long keys and quote odd ones", "[logging][json]") {
  const auto e =
      refusal("{\"" + std::string(50000, 'k') + "\":1,\"" + std::string(50000, 'k') + "\":2}");
  CHECK(e.path() == "$." + std::string(40, 'k') + "...");
  CHECK(runner::logging::json_child_path("$.env", "A B") == R"($.env["A B"])");
  CHECK(runner::logging::json_child_path("$", "#password") == "$.#password");
}

TEST_CASE("json_deeper_than measures without recursing", "[logging][json]") {
  json deep = json::array();
  for (int i = 0; i < 100000; ++i) deep = json::array({std::move(deep)});
  CHECK(json_deeper_than(deep, 256));
  CHECK_FALSE(json_deeper_than(json::parse("[[1],{\"a\":[2]}]"), 3));
  CHECK(json_deeper_than(json::parse("[[1],{\"a\":[2]}]"), 2));
  CHECK_FALSE(json_deeper_than(json(5), 0));
}

TEST_CASE("read_json_or_discarded stands in for parse(text, nullptr, false)", "[logging][json]") {
  CHECK(runner::logging::read_json_or_discarded("{\"a\":1}")["a"] == 1);
  CHECK(runner::logging::read_json_or_discarded("{\"a\":").is_discarded());
  CHECK(runner::logging::read_json_or_discarded(std::string(1000, '[')).is_discarded());
}

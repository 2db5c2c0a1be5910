// Masker and MaskedLineStream: the one masking rule. Text is masked as text; structured values
// after they are decoded, value by value (strings and keys inside, numbers and literals whole),
// so the structure survives; lines of a stream are masked as one stream.
#include "secrets/masked_lines.hpp"
#include "secrets/masker.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using nlohmann::json;
using runner::secrets::MaskedLineStream;
using runner::secrets::MaskedText;
using runner::secrets::Masker;

TEST_CASE("text: masked when it holds a secret, passed as a view when not", "[secrets][masker]") {
  const Masker masker(std::vector<std::string>{"hunter2"});
  std::string storage;
  const std::string clean = "nothing here";
  const MaskedText same = masker.mask(clean, storage);
  CHECK(same.view().data() == clean.data());  // no copy on the hot path
  CHECK(masker.mask("pw=hunter2!", storage).view() == "pw=[hidden]!");
  CHECK(masker.mask_copy("aGVudGVyMg== hunter2") == "aGVudGVyMg== [hidden]");
  const Masker none;
  CHECK(none.empty());
  CHECK(none.mask("hunter2", storage).view() == "hunter2");
}

TEST_CASE("JSON: values masked one by one, the structure survives", "[secrets][masker]") {
  const Masker masker(std::vector<std::string>{"s3cret", "1234", "true-ish"});
  const json value = {{"dsn", "postgres://bob:s3cret@db"},
                      {"pin", 1234},
                      {"float", 1234.0},
                      {"other", 99},
                      {"flag", true},
                      {"list", {"a", "s3cret", 5, {{"deep", "xs3cretx"}}}},
                      {"key_s3cret", "v"},
                      {"null", nullptr}};
  json storage;
  const json& masked = masker.mask(value, storage).json();
  CHECK(masked == json{{"dsn", "postgres://bob:[hidden]@db"},
                       {"pin", "[hidden]"},
                       {"float", "[hidden]"},
                       {"other", 99},
                       {"flag", true},
                       {"list", {"a", "[hidden]", 5, {{"deep", "x[hidden]x"}}}},
                       {"key_[hidden]", "v"},
                       {"null", nullptr}});
  CHECK(value["pin"] == 1234);  // the input is untouched
  json in_place = value;
  masker.mask_in_place(in_place);
  CHECK(in_place == masked);
}

TEST_CASE("JSON deeper than the limit is masked as one text", "[secrets][masker]") {
  const Masker masker(std::vector<std::string>{"s3cret"});
  json value = "s3cret";
  for (int i = 0; i < Masker::kMaxDepth + 10; ++i) value = json::array({value});
  masker.mask_in_place(value);
  CHECK(value.dump().find("s3cret") == std::string::npos);
}

TEST_CASE("payloads: read as they are unless they may hold a secret", "[secrets][masker]") {
  const Masker masker(std::vector<std::string>{"KestraSekrit6q", "12345678"});
  std::string masked;
  CHECK_FALSE(masker.may_hold_secret(R"({"outputs":{"a":"plain"}})"));
  CHECK_FALSE(masker.mask_payload(R"({"outputs":{"a":"plain"}})", masked));
  CHECK(masker.may_hold_secret(R"({"a":"x\u0041"})"));    // an escape may spell a secret
  CHECK(masker.may_hold_secret(R"({"a":1.2345678e7})"));  // so may a re-encoded number
  REQUIRE(masker.mask_payload(R"({"outputs":{"n":12345678,"s":"x"}})", masked));
  CHECK(json::parse(masked) == json{{"outputs", {{"n", "[hidden]"}, {"s", "x"}}}});
  REQUIRE(masker.mask_payload(R"({"outputs":{"esc":"Kestra\u0053ekrit6q"}})", masked));
  CHECK(json::parse(masked) == json{{"outputs", {{"esc", "[hidden]"}}}});
  REQUIRE(masker.mask_payload(R"({"outputs":{"e":1.2345678e7}})", masked));
  CHECK(json::parse(masked) == json{{"outputs", {{"e", "[hidden]"}}}});
  // Invalid JSON: only quoted in a warning, masked as JSON-looking text.
  REQUIRE(masker.mask_payload(R"({"outputs":{"esc":"Kestra\u0053ekrit6q",}})", masked));
  CHECK(masked == R"({"outputs":{"esc":"[hidden]",}})");
  // Deeper than the parser's limit: masked as text, still too deep for the parser.
  std::string deep(200, '[');
  deep += "\"12345678\"" + std::string(200, ']');
  REQUIRE(masker.mask_payload(deep, masked));
  CHECK(masked.find("12345678") == std::string::npos);
}

TEST_CASE("JSON-looking text: escaped literals decoded and masked, the rest as text",
          "[secrets][masker]") {
  const Masker masker(std::vector<std::string>{"KestraSekrit6q"});
  CHECK(masker.mask_json_text(R"(::{"a":"Kestra\u0053ekrit6q", "b":"\n ok", "c" KestraSekrit6q)") ==
        R"(::{"a":"[hidden]", "b":"\n ok", "c" [hidden])");
  CHECK(masker.mask_json_text(R"({"open":"Kestra\u0053ekrit)") == R"({"open":"Kestra\u0053ekrit)");
  CHECK(masker.mask_json_text(R"("\")"
                              "\\") == R"("\")"
                                       "\\");  // odd escapes do not trip it
}

namespace {
// What the stream handed on; a part that continues in the next one is marked with a final '+'.
struct Lines {
  std::vector<std::string> got;
  MaskedLineStream stream;
  explicit Lines(std::vector<std::string> secrets)
      : stream(std::make_shared<const runner::secrets::SecretMatcher>(secrets),
               [this](MaskedText line, bool continues) {
                 got.push_back(std::string(line.view()) + (continues ? "+" : ""));
               }) {}
};
}  // namespace

TEST_CASE("masked lines: handed on at drain, a secret over lines hidden whole",
          "[secrets][masker][lines]") {
  Lines l({"BEGIN\nmiddle\nEND", "hunter2"});
  l.stream.line("one hunter2");
  CHECK(l.got.empty());  // batched until drain
  l.stream.line("BEGIN");
  l.stream.drain();
  CHECK(l.got == std::vector<std::string>{"one [hidden]"});
  CHECK(l.stream.holding());  // "BEGIN\n" may start the secret
  l.stream.line("middle");
  l.stream.line("END", true);
  l.stream.line("after");
  l.stream.drain();
  CHECK(l.got == std::vector<std::string>{"one [hidden]", "[hidden]", "after"});
  CHECK_FALSE(l.stream.holding());
}

TEST_CASE("masked lines: CRLF and an almost-secret are kept as they were",
          "[secrets][masker][lines]") {
  Lines l({"BEGIN\r\nEND"});
  l.stream.line("BEGIN", true);
  l.stream.line("NOT END", true);
  l.stream.line("BEGIN", false);
  l.stream.line("END");
  l.stream.finish();
  CHECK(l.got == std::vector<std::string>{"BEGIN", "NOT END", "BEGIN", "END"});
}

TEST_CASE("masked lines: pieces are lines of their own, a secret across the cut is hidden",
          "[secrets][masker][lines]") {
  Lines l({"hunter2"});
  l.stream.piece("aaa hun");
  CHECK(l.got == std::vector<std::string>{"aaa +"});
  l.stream.line("ter2 bbb");
  l.stream.drain();
  CHECK(l.got == std::vector<std::string>{"aaa +", "[hidden] bbb"});
  // A piece closed by a lone newline: what was held back of it (or nothing) ends the line.
  l.stream.piece("ccc");
  l.stream.close_line();
  l.stream.drain();
  l.stream.piece("ddd hu");
  l.stream.close_line();
  l.stream.finish();
  CHECK(l.got == std::vector<std::string>{"aaa +", "[hidden] bbb", "ccc+", "", "ddd +", "hu"});
}

TEST_CASE("masked lines: finish hands on what was held back", "[secrets][masker][lines]") {
  Lines l({"hunter2"});
  l.stream.piece("end hunt");
  l.stream.finish();
  CHECK(l.got == std::vector<std::string>{"end +", "hunt"});
  // A line that ended with its last piece is closed at the end of the stream.
  Lines ended({"hunter2"});
  ended.stream.piece("all of it");
  ended.stream.finish();
  CHECK(ended.got == std::vector<std::string>{"all of it+", ""});
}

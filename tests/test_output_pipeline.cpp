// OutputPipeline: the stream path as a job runs it (line splitter, Kestra parser, masking) with
// the partial-line view: protocol lines written in parts are parsed whole and never shown, the
// view only ever gets masked text, and streams reported at the end never show or deliver
// partials. Secrets: protocol lines are read raw and their decoded values masked (a number equal
// to a secret, a secret behind a JSON escape), text is masked as one stream (secrets split
// across reads, pieces or lines), checked at every split point of a stream holding all of them.
#include "runner/output_pipeline.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>
#include <vector>

using runner::OutputPipeline;
using namespace std::chrono_literals;

namespace {

struct Collected {
  std::vector<std::string> text;
  std::string joined;
  bool in_pieces = false;
  std::vector<std::string> views;
  std::vector<std::string> logs;
  nlohmann::json outputs = nlohmann::json::object();
  std::vector<std::string> metrics;
  std::vector<std::string> warnings;
  std::vector<std::string> warning_lines;
  OutputPipeline::Callbacks callbacks(bool with_view = true) {
    OutputPipeline::Callbacks c;
    // `text`: each part as an event would show it (the empty part that only closes a line
    // handed on in pieces is none); `joined`: the parts as the kept stream text joins them.
    c.on_text = [this](runner::secrets::MaskedText line, bool continues) {
      if (!(line.empty() && in_pieces)) text.emplace_back(line.view());
      in_pieces = continues;
      joined.append(line.view());
      if (!continues) joined += '\n';
    };
    c.on_log = [this](runner::logging::Level, runner::secrets::MaskedText m) {
      logs.emplace_back(m.view());
    };
    c.on_outputs = [this](const runner::secrets::MaskedJson& o) { outputs.update(o.json()); };
    c.on_metric = [this](const runner::logging::KestraMetric& m) {
      metrics.push_back(m.name + " " + m.tags.dump() + " " + m.description);
    };
    c.on_warning = [this](runner::secrets::MaskedText message, runner::secrets::MaskedText line) {
      warnings.emplace_back(message.view());
      warning_lines.emplace_back(line.view());
    };
    if (with_view)
      c.on_partial = [this](runner::secrets::MaskedText v) { views.emplace_back(v.view()); };
    return c;
  }
  // Everything collected, for "no secret anywhere" checks.
  std::string all() const {
    std::string out;
    for (const auto* list : {&text, &views, &logs, &metrics, &warnings, &warning_lines})
      for (const auto& s : *list) out += s + "\n";
    return out + outputs.dump();
  }
};

runner::secrets::Masker masker_of(std::vector<std::string> secrets) {
  return runner::secrets::Masker(secrets);
}

const auto t0 = OutputPipeline::Clock::now();

}  // namespace

TEST_CASE("a Kestra line written in two halves is parsed whole and never shown",
          "[runner][pipeline][kestra]") {
  Collected c;
  OutputPipeline pipeline({}, true, c.callbacks());
  pipeline.feed("::{\"outputs\":{\"rows\":", t0);
  for (auto t = t0; t <= t0 + 30s; t += 200ms) pipeline.flush_if_due(t);
  pipeline.feed("123}}::\n", t0 + 30s);
  pipeline.finish();
  CHECK(c.outputs == nlohmann::json{{"rows", 123}});
  CHECK(c.text.empty());
  CHECK(c.views.empty());
  CHECK(c.warnings.empty());
}

TEST_CASE("an open multi-line protocol block's lines are not shown in parts",
          "[runner][pipeline][kestra]") {
  Collected c;
  OutputPipeline pipeline({}, true, c.callbacks());
  pipeline.feed("::{\n  \"outputs\": ", t0);
  pipeline.flush_if_due(t0 + 300ms);
  pipeline.feed("{\"a\": 1}\n}::\n", t0 + 600ms);
  pipeline.finish();
  CHECK(c.views.empty());
  CHECK(c.outputs == nlohmann::json{{"a", 1}});
}

TEST_CASE("a protocol line over the splitter's 64 KiB reaches the parser whole",
          "[runner][pipeline][kestra]") {
  for (const bool secrets : {false, true}) {
    Collected c;
    OutputPipeline pipeline(secrets ? masker_of({"Sup3rS3cret"}) : runner::secrets::Masker(), true,
                            c.callbacks());
    const std::string big(100 * 1024, 'b');
    // The secret straddles the 64 KiB cut.
    const std::string value = std::string(65536 - 22, 'a') + "Sup3rS3cret" + big;
    pipeline.feed("::{\"outputs\":{\"v\":\"" + value + "\"}}::\n", t0);
    pipeline.finish();
    CHECK(c.text.empty());
    CHECK(c.warnings.empty());
    REQUIRE(c.outputs.contains("v"));
    const std::string got = c.outputs["v"];
    CHECK(got.size() == value.size() - (secrets ? 11 - 8 : 0));
    CHECK((got.find("Sup3rS3cret") == std::string::npos) == secrets);
  }
}

TEST_CASE("the partial-line view only gets masked text", "[runner][pipeline][secrets]") {
  Collected c;
  OutputPipeline pipeline(masker_of({"hunter2"}), true, c.callbacks());
  pipeline.feed("Password: hunter2, token: hun", t0);
  pipeline.flush_if_due(t0 + 200ms);
  // "hun" may be the start of the secret: it is held back, the view never sees it.
  REQUIRE(c.views.size() == 1);
  CHECK(c.views[0] == "Password: [hidden], token: ");
  pipeline.feed("ter2\n", t0 + 1s);
  pipeline.finish();
  CHECK(c.text == std::vector<std::string>{"Password: [hidden], token: [hidden]"});
  CHECK(c.views.back().empty());
}

TEST_CASE("a line delivered after the quiet period keeps a secret's start for its continuation",
          "[runner][pipeline][secrets]") {
  Collected c;
  OutputPipeline pipeline(masker_of({"hunter2"}), true, c.callbacks(false));
  pipeline.feed("Password: hun", t0);
  pipeline.flush_if_due(t0 + 11s);  // delivered as a line of its own
  CHECK(c.text == std::vector<std::string>{"Password: "});
  pipeline.feed("ter2 ok\nnext\n", t0 + 12s);
  pipeline.finish();
  CHECK(c.text == std::vector<std::string>{"Password: ", "[hidden] ok", "next"});
}

TEST_CASE("a lone newline after a delivered piece adds no empty line, held bytes still arrive",
          "[runner][pipeline][secrets]") {
  for (const std::string tail : {"abc", "hun"}) {
    Collected c;
    OutputPipeline pipeline(masker_of({"hunter2"}), true, c.callbacks(false));
    pipeline.feed("x " + tail, t0);
    pipeline.flush_if_due(t0 + 11s);
    pipeline.feed("\nafter\n", t0 + 12s);
    pipeline.finish();
    if (tail == "abc") {
      CHECK(c.text == std::vector<std::string>{"x abc", "after"});
    } else {  // "hun" was held back as a possible secret: it is the end of its line
      CHECK(c.text == std::vector<std::string>{"x ", "hun", "after"});
    }
  }
}

TEST_CASE("a secret printed over several lines, with CRLF, is hidden whole",
          "[runner][pipeline][secrets]") {
  const std::string pem = "-----BEGIN KEY-----\r\nMIIEvQIBADANBg\r\n-----END KEY-----";
  Collected c;
  OutputPipeline pipeline(masker_of({pem}), false, c.callbacks(false));
  pipeline.feed("before\r\n" + pem.substr(0, 25), t0);
  pipeline.feed(pem.substr(25) + "\r\nafter\n", t0);
  pipeline.finish();
  CHECK(c.text == std::vector<std::string>{"before", "[hidden]", "after"});
}

TEST_CASE("a secret across the 64 KiB cut of a text line is hidden",
          "[runner][pipeline][secrets]") {
  Collected c;
  OutputPipeline pipeline(masker_of({"Sup3rS3cret"}), false, c.callbacks(false));
  const std::string line = std::string(65536 - 5, 'a') + "Sup3rS3cret" + std::string(10, 'z');
  pipeline.feed(line + "\n", t0);
  pipeline.finish();
  REQUIRE(c.text.size() == 2);
  CHECK(c.text[0] == std::string(65536 - 5, 'a'));
  CHECK(c.text[1] == "[hidden]" + std::string(10, 'z'));
}

TEST_CASE("a stream reported at the end never shows or delivers a partial line",
          "[runner][pipeline]") {
  Collected c;
  OutputPipeline pipeline({}, false, c.callbacks());
  pipeline.feed("half ", t0);
  CHECK_FALSE(pipeline.next_flush().has_value());
  pipeline.flush_if_due(t0 + 1h);
  pipeline.feed("rest\n", t0 + 1h);
  pipeline.finish();
  CHECK(c.text == std::vector<std::string>{"half rest"});
  CHECK(c.views.empty());
}

TEST_CASE("a number equal to a secret is hidden without losing the line's other outputs",
          "[runner][pipeline][secrets][kestra]") {
  // "#pin": "12345678": the raw line must not become {"n":[hidden],...}, which is no JSON.
  Collected c;
  OutputPipeline pipeline(masker_of({"12345678"}), true, c.callbacks());
  pipeline.feed("::{\"outputs\":{\"n\":12345678,\"s\":\"x\"}}::\n", t0);
  pipeline.feed(
      R"(::{"metrics":[{"name":"rows","type":"counter","value":12345678},{"name":"ok","type":"counter","value":1}]}::)"
      "\n",
      t0);
  pipeline.finish();
  CHECK(c.outputs == nlohmann::json{{"n", "[hidden]"}, {"s", "x"}});
  // The metric whose value is the secret is dropped with a warning; the other one stays.
  CHECK(c.metrics == std::vector<std::string>{"ok {} "});
  REQUIRE(c.warnings.size() == 1);
  CHECK_THAT(c.warnings[0], Catch::Contains("metrics[0].value"));
  CHECK(c.all().find("12345678") == std::string::npos);
}

TEST_CASE("a secret written with a JSON escape is masked once decoded",
          "[runner][pipeline][secrets][kestra]") {
  Collected c;
  OutputPipeline pipeline(masker_of({"KestraSekrit6q"}), true, c.callbacks());
  pipeline.feed(
      R"(::{"outputs":{"esc":"Kestra\u0053ekrit6q","k":"v"}}::)"
      "\n"
      R"(::{"logs":[{"level":"INFO","message":"pw Kestra\u0053ekrit6q"}]}::)"
      "\n"
      R"(::{"metrics":[{"name":"m","type":"gauge","value":1,"tags":{"t":"\u004bestraSekrit6q"}}]}::)"
      "\n"
      R"(::{"metrics":[{"name":"m","type":"histogram","value":"Kestra\u0053ekrit6q"}]}::)"
      "\n",
      t0);
  pipeline.finish();
  CHECK(c.outputs == nlohmann::json{{"esc", "[hidden]"}, {"k", "v"}});
  CHECK(c.logs == std::vector<std::string>{"pw [hidden]"});
  CHECK(c.metrics == std::vector<std::string>{R"(m {"t":"[hidden]"} )"});
  REQUIRE(c.warnings.size() == 1);  // the histogram: its quoted value is masked too
  CHECK(c.all().find("KestraSekrit6q") == std::string::npos);
  CHECK(c.all().find("ekrit6q") == std::string::npos);
}

namespace {

// A stream holding every case: plain text with a secret, the two protocol leaks, a secret over
// three lines, a protocol warning quoting a secret, a bare protocol line, and a secret at the
// very end without a newline.
const std::vector<std::string> kSecrets = {"12345678", "KestraSekrit6q", "Sup3rS3cret",
                                           "-----BEGIN-----\nabc\n-----END-----"};
const std::string kStream =
    "start Sup3rS3cret end\n"
    "::{\"outputs\":{\"n\":12345678,\"s\":\"x\"}}::\n"
    "::{\"outputs\":{\"esc\":\"Kestra\\u0053ekrit6q\"}}::\n"
    "key:\n-----BEGIN-----\nabc\n-----END-----\n"
    "::{\"metrics\":[{\"name\":\"m\",\"type\":\"Sup3rS3cret\",\"value\":1}]}::\n"
    "{\"logs\":[{\"message\":\"bare Sup3rS3cret\"}]}\n"
    "last Sup3rS3cret";

Collected run_split(const std::vector<std::size_t>& cuts, bool live,
                    std::chrono::milliseconds step = 0ms) {
  Collected c;
  OutputPipeline pipeline(masker_of(kSecrets), live, c.callbacks());
  std::size_t at = 0;
  auto now = t0;
  for (const std::size_t cut : cuts) {
    pipeline.feed(std::string_view(kStream).substr(at, cut - at), now);
    now += step;
    pipeline.flush_if_due(now);
    at = cut;
  }
  pipeline.feed(std::string_view(kStream).substr(at), now);
  pipeline.finish();
  return c;
}

void check_masked(const Collected& c) {
  const std::string all = c.all();
  for (const auto& secret : kSecrets) CHECK(all.find(secret) == std::string::npos);
  for (const std::string_view part : {"Sup3rS3c", "ekrit6q", "2345678", "abc"})
    CHECK(all.find(part) == std::string::npos);
  CHECK(c.outputs == nlohmann::json{{"n", "[hidden]"}, {"s", "x"}, {"esc", "[hidden]"}});
  CHECK(c.logs == std::vector<std::string>{"bare [hidden]"});
  REQUIRE(c.warnings.size() == 1);
  CHECK_THAT(c.warnings[0], Catch::Contains("[hidden]"));
}

}  // namespace

TEST_CASE("property: the stream split at every point gives the same masked result",
          "[runner][pipeline][secrets][property]") {
  const Collected whole = run_split({}, false);
  CHECK(whole.text ==
        std::vector<std::string>{"start [hidden] end", "key:", "[hidden]", "last [hidden]"});
  check_masked(whole);
  for (const bool live : {false, true}) {
    for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
      INFO("split at " << cut << (live ? ", live" : ""));
      const Collected split = run_split({cut}, live);
      check_masked(split);
      CHECK(split.text == whole.text);
      CHECK(split.warning_lines == whole.warning_lines);
    }
  }
}

TEST_CASE("property: random splits and pauses never let a secret through",
          "[runner][pipeline][secrets][property]") {
  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t at = 0;;) {
      at += 1 + rng() % 12;
      if (at >= kStream.size()) break;
      cuts.push_back(at);
    }
    // Pauses up to 12 s: partial lines are shown, and some delivered after the quiet period.
    const auto step = std::chrono::milliseconds(rng() % 2 == 0 ? 150 : rng() % 12000);
    const Collected c = run_split(cuts, true, step);
    check_masked(c);
  }
}

TEST_CASE(
    "a progress bar redrawn with a carriage return is one line in its final state, shown in place",
    "[runner][pipeline][cr]") {
  for (const bool with_secrets : {false, true}) {
    INFO(with_secrets);
    Collected c;
    OutputPipeline pipeline(with_secrets ? masker_of({"Sup3rS3cret"}) : masker_of({}), true,
                            c.callbacks());
    pipeline.feed("\rprogress  25% [##      ]", t0);
    pipeline.flush_if_due(t0 + 300ms);
    pipeline.feed("\rprogress  50% [####    ]", t0 + 300ms);
    pipeline.flush_if_due(t0 + 600ms);
    pipeline.feed("\rprogress 100% [########]\n", t0 + 600ms);
    pipeline.finish();
    CHECK(c.text == std::vector<std::string>{"progress 100% [########]"});
    // The live view got each state, never a '\r' (which would overwrite runner's prefix).
    REQUIRE(c.views.size() >= 2);
    CHECK(c.views[0] == "progress  25% [##      ]");
    CHECK(c.views[1] == "progress  50% [####    ]");
    for (const auto& v : c.views) CHECK(v.find('\r') == std::string::npos);
  }
}

TEST_CASE("a secret spelt by redrawing over it is still hidden",
          "[runner][pipeline][cr][secrets]") {
  Collected c;
  OutputPipeline pipeline(masker_of({"Sup3rS3cret"}), true, c.callbacks());
  // Written as "XXX3rS3cret" then "Sup" over its start: the final state is the secret.
  pipeline.feed("XXX3rS3cret\rSup\n", t0);
  pipeline.finish();
  CHECK(c.text == std::vector<std::string>{"[hidden]"});
  CHECK(c.all().find("Sup3rS3cret") == std::string::npos);
}

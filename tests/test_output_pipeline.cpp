// OutputPipeline: the stream path as a job runs it (scrubber, splitter, Kestra parser) with the
// partial-line view: protocol lines written in parts are parsed whole and never shown, the view
// only ever gets scrubbed text, and streams reported at the end never show or deliver partials.
#include "runner/output_pipeline.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using runner::OutputPipeline;
using namespace std::chrono_literals;

namespace {
struct Collected {
  std::vector<std::string> text;
  std::vector<std::string> views;
  nlohmann::json outputs = nlohmann::json::object();
  std::vector<std::string> warnings;
  runner::logging::KestraCallbacks callbacks() {
    runner::logging::KestraCallbacks c;
    c.on_text = [this](std::string_view line) { text.emplace_back(line); };
    c.on_outputs = [this](const nlohmann::json& o) { outputs.update(o); };
    c.on_warning = [this](std::string message, std::string_view) {
      warnings.push_back(std::move(message));
    };
    return c;
  }
  OutputPipeline::PartialFn view() {
    return [this](std::string_view v) { views.emplace_back(v); };
  }
};
}  // namespace

TEST_CASE("a Kestra line written in two halves is parsed whole and never shown",
          "[runner][pipeline][kestra]") {
  Collected c;
  OutputPipeline pipeline(nullptr, true, c.callbacks());
  pipeline.show_partial_lines(c.view());
  const auto t0 = OutputPipeline::Clock::now();
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
  OutputPipeline pipeline(nullptr, true, c.callbacks());
  pipeline.show_partial_lines(c.view());
  const auto t0 = OutputPipeline::Clock::now();
  pipeline.feed("::{\n  \"outputs\": ", t0);
  pipeline.flush_if_due(t0 + 300ms);
  pipeline.feed("{\"a\": 1}\n}::\n", t0 + 600ms);
  pipeline.finish();
  CHECK(c.views.empty());
  CHECK(c.outputs == nlohmann::json{{"a", 1}});
}

TEST_CASE("the partial-line view only gets scrubbed text", "[runner][pipeline][secrets]") {
  Collected c;
  auto matcher =
      std::make_shared<const runner::secrets::SecretMatcher>(std::vector<std::string>{"hunter2"});
  OutputPipeline pipeline(matcher, true, c.callbacks());
  pipeline.show_partial_lines(c.view());
  const auto t0 = OutputPipeline::Clock::now();
  pipeline.feed("Password: hunter2, token: hun", t0);
  pipeline.flush_if_due(t0 + 200ms);
  // "hun" may be the start of the secret: the scrubber holds it back, the view never sees it.
  REQUIRE(c.views.size() == 1);
  CHECK(c.views[0] == "Password: [hidden], token: ");
  pipeline.feed("ter2\n", t0 + 1s);
  pipeline.finish();
  CHECK(c.text == std::vector<std::string>{"Password: [hidden], token: [hidden]"});
  CHECK(c.views.back().empty());
}

TEST_CASE("a stream reported at the end never shows or delivers a partial line",
          "[runner][pipeline]") {
  Collected c;
  OutputPipeline pipeline(nullptr, false, c.callbacks());
  pipeline.show_partial_lines(c.view());
  const auto t0 = OutputPipeline::Clock::now();
  pipeline.feed("half ", t0);
  CHECK_FALSE(pipeline.next_flush().has_value());
  pipeline.flush_if_due(t0 + 1h);
  pipeline.feed("rest\n", t0 + 1h);
  pipeline.finish();
  CHECK(c.text == std::vector<std::string>{"half rest"});
  CHECK(c.views.empty());
}

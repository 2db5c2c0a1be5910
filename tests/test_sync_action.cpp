// Sync actions (runner/sync_action.hpp): which actions are sync, their 30-second limit, and
// how a response is judged (one JSON document, trimmed; else why not). No Docker.
#include "runner/sync_action.hpp"

#include <catch2/catch.hpp>

using runner::judge_action_response;

namespace {
runner::ComponentSpec spec_with(const std::string& action, int timeout) {
  runner::ComponentSpec spec;
  spec.action = action;
  spec.limits.timeout_seconds = timeout;
  return spec;
}
}  // namespace

TEST_CASE("any action but run is a sync action limited to 30 s", "[runner][action]") {
  CHECK_FALSE(runner::is_sync_action(spec_with("run", 3600)));
  CHECK(runner::is_sync_action(spec_with("testConnection", 3600)));
  CHECK(runner::job_timeout_seconds(spec_with("run", 3600)) == 3600);
  CHECK(runner::job_timeout_seconds(spec_with("testConnection", 3600)) == 30);
  CHECK(runner::job_timeout_seconds(spec_with("testConnection", 10)) == 10);
}

TEST_CASE("a response is one JSON document, trimmed", "[runner][action]") {
  auto r = judge_action_response("  {\"status\": \"ok\",\n \"n\": [1, 2]}\n\n", 0);
  REQUIRE(r.json);
  CHECK(*r.json == "{\"status\": \"ok\",\n \"n\": [1, 2]}");
  CHECK(judge_action_response("[]", 0).json == std::string("[]"));
  CHECK(judge_action_response("\"text\"\n", 0).json == std::string("\"text\""));
}

TEST_CASE("what is not a response says why", "[runner][action]") {
  auto garbage = judge_action_response("connected!\n", 0);
  CHECK_FALSE(garbage.json);
  CHECK(garbage.problem.rfind("The sync action's output on stdout is not one JSON document", 0) ==
        0);
  CHECK_FALSE(judge_action_response("{\"a\": 1}\n{\"b\": 2}\n", 0).json);  // two documents
  CHECK_FALSE(judge_action_response("{\"a\": 1, \"a\": 2}", 0).json);      // a duplicate key
  auto empty = judge_action_response(" \n", 0);
  CHECK_FALSE(empty.json);
  CHECK(empty.problem.find("printed nothing") != std::string::npos);
  auto big = judge_action_response("{}", 10);
  CHECK_FALSE(big.json);
  CHECK(big.problem.find("over the 2 MiB") != std::string::npos);
}

// End-to-end: sync actions (runner/sync_action.hpp) through the real `runner` binary against the
// real engine and the locally built runner-busybox image: the answer on stdout byte for byte,
// stdout that is not JSON, the user's message of an exit 1, the 30-second limit, `runner run` of
// an action, and what is refused (a queued action, a malformed action name).
#include "cli_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <random>

using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

std::string unique_label() {
  std::random_device rd;
  return "e2e-action-" + std::to_string(rd() % 1000000000);
}

// A component whose command is `script`, labelled so the test can count its containers.
std::string component(const std::string& script, const std::string& label,
                      const json& extra = json::object()) {
  json doc = {{"id", "test.action"},
              {"image", kImage},
              {"command", {"sh", "-c", script}},
              {"labels", {{"e2e", label}}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

std::size_t containers_labelled(const std::string& label) {
  return runner_test::engine_client().list_containers({"e2e=" + label}).size();
}

struct ActionRun {
  runner_test::CliResult cli;
  std::vector<json> events;
};

ActionRun run_action(const std::vector<std::string>& args) {
  const std::string events = temp_file("", ".jsonl");
  std::vector<std::string> all = args;
  all.insert(all.end(), {"--store", "none", "--events", events});
  ActionRun run{run_cli(all), runner_test::read_json_lines(events)};
  std::filesystem::remove(events);
  return run;
}

}  // namespace

TEST_CASE("a sync action's JSON answer is all runner prints on stdout", "[e2e][action]") {
  const std::string label = unique_label();
  // The answer says which action config.json named; stderr and a runner event go elsewhere.
  const std::string file = component(
      "a=$(grep -o testConnection /data/config.json | head -n 1); echo 'checking' >&2; "
      "printf '{\"status\": \"ok\",\\n \"action\": \"%s\", \"n\": [1, 2]}\\n' \"$a\"",
      label);
  const auto r = run_action({"action", "testConnection", file});
  CHECK(r.cli.exit_code == 0);
  CHECK(r.cli.out == "{\"status\": \"ok\",\n \"action\": \"testConnection\", \"n\": [1, 2]}\n");
  CHECK(r.cli.err.find("checking") != std::string::npos);  // events on stderr
  CHECK(r.cli.err.find("Sync action \"testConnection\"") != std::string::npos);
  REQUIRE(!r.events.empty());
  CHECK(r.events.back()["status"] == "success");
  for (const auto& e : r.events) CHECK(e.value("source", "") != "stdout");  // not an event
  CHECK(containers_labelled(label) == 0);
}

TEST_CASE("`runner run` of a component whose action is a sync action answers the same",
          "[e2e][action]") {
  const std::string label = unique_label();
  const std::string file = component("echo '[\"a\", \"b\"]'", label, {{"action", "getTables"}});
  const auto r = run_action({"run", file});
  CHECK(r.cli.exit_code == 0);
  CHECK(r.cli.out == "[\"a\", \"b\"]\n");
}

TEST_CASE("a sync action printing something other than JSON is an application error",
          "[e2e][action]") {
  const std::string label = unique_label();
  const auto r = run_action(
      {"action", "testConnection", component("echo 'connected!'; echo '{\"half\":'", label)});
  CHECK(r.cli.exit_code == 2);
  CHECK(r.cli.out.empty());
  CHECK(r.cli.err.find("not one JSON document") != std::string::npos);
  REQUIRE(!r.events.empty());
  CHECK(r.events.back()["error_type"] == "application");
  CHECK(containers_labelled(label) == 0);

  const auto empty = run_action({"action", "testConnection", component("true", label)});
  CHECK(empty.cli.exit_code == 2);
  CHECK(empty.cli.err.find("printed nothing on stdout") != std::string::npos);
}

TEST_CASE("a sync action's exit 1 carries the user's message from stderr", "[e2e][action]") {
  const std::string label = unique_label();
  const auto r = run_action(
      {"action", "testConnection",
       component("echo '{\"partial\": true}'; echo 'Invalid credentials' >&2; exit 1", label)});
  CHECK(r.cli.exit_code == 1);
  CHECK(r.cli.out.empty());
  REQUIRE(!r.events.empty());
  CHECK(r.events.back()["message"] == "Invalid credentials");
  CHECK(r.events.back()["error_type"] == "user");
}

TEST_CASE("a sync action is stopped after 30 seconds, whatever the component's timeout",
          "[e2e][action]") {
  const std::string label = unique_label();
  const auto started = std::chrono::steady_clock::now();
  const auto r =
      run_action({"action", "slowAction",
                  component("echo '{}' ; sleep 60", label, {{"limits", {{"timeout", 3600}}}})});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(r.cli.exit_code == 1);
  CHECK(r.cli.out.empty());
  CHECK(seconds >= 29);
  CHECK(seconds < 55);
  REQUIRE(!r.events.empty());
  CHECK(r.events.back()["message"] == "Component exceeded the timeout of 30 seconds");
  CHECK(containers_labelled(label) == 0);
}

TEST_CASE("a sync action cannot be queued, and a malformed action is exit 65", "[e2e][action]") {
  const std::string label = unique_label();
  const std::string db = temp_file("", ".db");
  const auto submitted =
      run_cli({"submit", component("echo '{}'", label, {{"action", "testConnection"}}), "--store",
               "sqlite:" + db});
  CHECK(submitted.exit_code == 64);
  CHECK(submitted.err.find("sync action") != std::string::npos);
  CHECK(submitted.err.find("runner action testConnection") != std::string::npos);
  std::filesystem::remove(db);

  const auto bad = run_cli({"run", component("true", label, {{"action", 5}}), "--store", "none"});
  CHECK(bad.exit_code == 65);
  CHECK(bad.err.find("$.action: expected a non-empty string, got 5") != std::string::npos);
  const auto spaced =
      run_cli({"run", component("true", label, {{"action", "drop tables"}}), "--store", "none"});
  CHECK(spaced.exit_code == 65);
  CHECK(spaced.err.find("$.action: expected \"run\" or a sync action's name") != std::string::npos);

  const auto run_named = run_cli({"action", "run", component("true", label)});
  CHECK(run_named.exit_code == 64);
  CHECK(containers_labelled(label) == 0);
}

// End-to-end: Keboola's state, usage file and environment (issue 13), the real `runner` binary
// against the real engine with an SQLite store of the test's own. State carried across three
// runs and left unchanged by a failed one; a '#' state value never in any output nor in the
// store file in the clear (encrypted with the runner's key), and decrypted for the next run;
// `runner state show|set|clear` and `runner show`; --data-dir's own in/state.json; the usage
// file recorded, and a wrong one failing the job; the new KBC_* variables.
#include "cli_process.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::TempDir;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

struct Home : TempDir {
  Home() : TempDir("runner-e2e-state-") {}
  std::string store() const { return "sqlite:" + (path / "runner.db").string(); }
  std::map<std::string, std::string> env() const {
    return {{"RUNNER_HOME", path.string()}, {"RUNNER_ENCRYPTION_KEY", ""}};
  }
  // Every byte of the store's files (the database and its WAL).
  std::string store_bytes() const {
    std::string all;
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().filename().string().rfind("runner.db", 0) == 0)
        all += runner_test::read_file(e.path());
    return all;
  }
};

std::string component(const std::string& script, const json& extra = json::object()) {
  json doc = {{"id", "test.e2e-state"},
              {"config_id", "cfg-" + std::to_string(std::random_device{}())},
              {"image", kImage},
              {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

struct Run {
  int exit_code;
  std::string out;
  std::string err;
  std::vector<json> events;
  json result;
  std::string stdout_text;
};

Run run_job(const Home& home, const std::string& file, std::vector<std::string> extra = {}) {
  const std::string events = temp_file("", ".jsonl");
  std::vector<std::string> args = {"run", file, "--store", home.store(), "--events", events};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_cli(args, home.env());
  Run run{r.exit_code, r.out, r.err, runner_test::read_json_lines(events), json(), ""};
  fs::remove(events);
  if (!run.events.empty() && run.events.back()["kind"] == "result") run.result = run.events.back();
  for (const auto& e : run.events)
    if (e["kind"] == "event" && e["source"] == "stdout")
      run.stdout_text += e["message"].get<std::string>() + "\n";
  return run;
}

// Rewrites the component file with another script, keeping its id and config_id.
std::string with_script(const std::string& file, const std::string& script) {
  json doc = json::parse(runner_test::read_file(file));
  doc["command"] = {"sh", "-c", script};
  std::ofstream(file, std::ios::trunc) << doc.dump();
  return file;
}

}  // namespace

TEST_CASE("state: carried across three runs, unchanged by a failed one", "[e2e][state]") {
  Home home;
  // Each run prints the state it got and leaves count+1.
  const std::string counter =
      "cat /data/in/state.json; echo; n=$(sed -n 's/.*\"count\": *\\([0-9]*\\).*/\\1/p' "
      "/data/in/state.json); n=${n:-0}; echo \"{\\\"count\\\": $((n+1))}\" > /data/out/state.json";
  const std::string file = component(counter);
  const Run first = run_job(home, file);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.stdout_text, Catch::StartsWith("{}\n"));  // nothing stored yet
  CHECK(first.result["state"] == "saved");
  const Run second = run_job(home, file);
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.stdout_text, Catch::Contains("{\"count\":1}"));
  // A failing run writes a state too, which is not kept.
  with_script(file, counter + "; echo '{\"count\": 99}' > /data/out/state.json; exit 1");
  const Run failed = run_job(home, file);
  CHECK(failed.exit_code == 1);
  CHECK_FALSE(failed.result.contains("state"));
  with_script(file, counter);
  const Run third = run_job(home, file);
  REQUIRE(third.exit_code == 0);
  CHECK_THAT(third.stdout_text, Catch::Contains("{\"count\":2}"));
  // The store: the state now, its history of three writes, and what `runner show` says.
  const auto shown =
      run_cli({"state", "show", file, "--store", home.store(), "--history", "10"}, home.env());
  CHECK(shown.exit_code == 0);
  CHECK(shown.out == "{\"count\":3}\n");
  CHECK_THAT(shown.err, Catch::Contains(third.result["job_id"].get<std::string>()));
  std::size_t writes = 0;
  for (std::size_t at = shown.err.find("saved"); at != std::string::npos;
       at = shown.err.find("saved", at + 1))
    ++writes;
  CHECK(writes == 3);
  const auto show_third =
      run_cli({"show", third.result["job_id"].get<std::string>(), "--store", home.store()});
  CHECK_THAT(show_third.out, Catch::Contains("State       saved"));
  const auto show_failed =
      run_cli({"show", failed.result["job_id"].get<std::string>(), "--store", home.store()});
  CHECK_THAT(show_failed.out, Catch::Contains("State       unchanged"));
  // An empty out file removes the state; `set` and `clear` by hand.
  with_script(file, "cat /data/in/state.json; : > /data/out/state.json");
  const Run emptied = run_job(home, file);
  CHECK(emptied.result["state"] == "removed");
  CHECK(run_cli({"state", "show", file, "--store", home.store()}, home.env()).out ==
        "no state for test.e2e-state, config \"" +
            json::parse(runner_test::read_file(file))["config_id"].get<std::string>() +
            "\" (a run starts from {})\n");
  const std::string by_hand = temp_file(R"({"count": 41})");
  CHECK(run_cli({"state", "set", file, by_hand, "--store", home.store()}, home.env()).exit_code ==
        0);
  with_script(file, counter);
  CHECK_THAT(run_job(home, file).stdout_text, Catch::Contains("{\"count\":41}"));
  CHECK(run_cli({"state", "clear", file, "--store", home.store()}, home.env()).exit_code == 0);
  CHECK_THAT(run_job(home, file).stdout_text, Catch::StartsWith("{}\n"));
}

TEST_CASE("state: invalid JSON fails the job naming the file, and changes nothing",
          "[e2e][state]") {
  Home home;
  const std::string file = component("echo '{\"a\": 1}' > /data/out/state.json");
  REQUIRE(run_job(home, file).exit_code == 0);
  with_script(file, "echo '{\"a\": ' > /data/out/state.json");
  const Run bad = run_job(home, file);
  CHECK(bad.exit_code == 1);
  CHECK(bad.result["error_type"] == "user");
  CHECK_THAT(bad.result["message"].get<std::string>(),
             Catch::StartsWith("/data/out/state.json is not valid JSON"));
  CHECK(run_cli({"state", "show", file, "--store", home.store()}, home.env()).out == "{\"a\":1}\n");
}

TEST_CASE("state: a '#' value is encrypted in the store, decrypted for the next run, never shown",
          "[e2e][state][secrets]") {
  Home home;
  REQUIRE(run_cli({"keygen"}, home.env()).exit_code == 0);  // $RUNNER_HOME/secret.key
  const std::string secret = "st8-" + std::to_string(std::random_device{}());
  // The secret reaches the component only through its parameters' '#' key (hidden already)
  // and leaves through out/state.json.
  const std::string file = component(
      "sed -n 's/.*\"#seed\": *\"\\([^\"]*\\)\".*/{\"#token\": \"\\1\", \"plain\": \"p\"}/p' "
      "/data/config.json > /data/out/state.json; echo written",
      {{"parameters", {{"#seed", secret}}}});
  const Run first = run_job(home, file);
  REQUIRE(first.exit_code == 0);
  // The next run gets it decrypted, and printing it shows [hidden].
  with_script(file, "grep -q '" + secret +
                        "' /data/in/state.json && echo decrypted; "
                        "cat /data/in/state.json; echo; cat /data/in/state.json >&2; "
                        "cp /data/in/state.json /data/out/state.json");
  const Run second = run_job(home, file);
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.stdout_text, Catch::Contains("decrypted"));
  CHECK_THAT(second.stdout_text, Catch::Contains("\"#token\":\"[hidden]\""));
  const auto shown = run_cli({"state", "show", file, "--store", home.store()}, home.env());
  CHECK_THAT(shown.out, Catch::Contains("RUNNER::ENC::"));
  const auto logs =
      run_cli({"logs", second.result["job_id"].get<std::string>(), "--store", home.store()});
  for (const auto& text : {first.out, first.err, second.out, second.err, second.stdout_text,
                           shown.out, shown.err, logs.out, logs.err, home.store_bytes()})
    CHECK(text.find(secret) == std::string::npos);
}

TEST_CASE("state: without a key '#' values are kept in the clear, with a warning",
          "[e2e][state][secrets]") {
  Home home;
  const std::string file = component("echo '{\"#token\": \"clear-one\"}' > /data/out/state.json");
  const Run run = run_job(home, file);
  REQUIRE(run.exit_code == 0);
  std::string warnings;
  for (const auto& e : run.events)
    if (e["kind"] == "event" && e["level"] == "warning")
      warnings += e["message"].get<std::string>();
  CHECK_THAT(warnings, Catch::Contains("No encryption key: 1 '#' value(s) of the new state are "
                                       "stored in the clear"));
}

TEST_CASE("state: --data-dir uses the user's in/state.json and keeps out/state.json",
          "[e2e][state][data-dir]") {
  Home home;
  const fs::path data = home.path / "data";
  fs::create_directories(data / "in");
  std::ofstream(data / "in/state.json") << R"({"mine": true})";
  const std::string file =
      component("cat /data/in/state.json; echo; echo '{\"next\": 2}' > /data/out/state.json",
                {{"parameters", json::object()}});
  const Run run = run_job(home, file, {"--data-dir", data.string()});
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.stdout_text, Catch::Contains("{\"mine\": true}"));
  CHECK(runner_test::read_file(data / "in/state.json") == R"({"mine": true})");
  CHECK(runner_test::read_file(data / "out/state.json") == "{\"next\": 2}\n");
  // --use-stored-state: the stored one ({"next": 2}) replaces the user's file.
  const Run stored =
      run_job(home, file, {"--data-dir", data.string(), "--use-stored-state", "--clean-out"});
  REQUIRE(stored.exit_code == 0);
  CHECK_THAT(stored.stdout_text, Catch::Contains("{\"next\":2}"));
}

TEST_CASE("usage: out/usage.json is kept in the result and the store, a wrong one fails the job",
          "[e2e][usage]") {
  Home home;
  const std::string file = component(
      "echo '[{\"metric\": \"API calls\", \"value\": 12}, {\"metric\": \"rows\", \"value\": "
      "3.5}]' > /data/out/usage.json; exit 1");
  const Run failed = run_job(home, file);
  CHECK(failed.exit_code == 1);  // read after a failure too
  const json expected =
      json::parse(R"([{"metric":"API calls","value":12},{"metric":"rows","value":3.5}])");
  CHECK(failed.result["usage"] == expected);
  const auto shown =
      run_cli({"show", failed.result["job_id"].get<std::string>(), "--store", home.store()});
  CHECK_THAT(shown.out, Catch::Contains("Usage       " + expected.dump()));
  for (const std::string wrong :
       {R"({"metric": "x", "value": 1})", R"([{"metric": "x", "value": "1"}])",
        R"([{"metric": "x", "value": 1, "unit": "s"}])", "[1"}) {
    INFO(wrong);
    const Run bad = run_job(home, component("echo '" + wrong + "' > /data/out/usage.json"));
    CHECK(bad.exit_code == 1);
    CHECK(bad.result["error_type"] == "user");
    CHECK_THAT(bad.result["message"].get<std::string>(),
               Catch::StartsWith("Invalid usage file: out/usage.json"));
  }
}

TEST_CASE("usage: a job of several rows reports every row's metrics", "[e2e][usage][rows]") {
  Home home;
  // Each row writes its own file (the row id is the metric); r2 writes none.
  const std::string file = component(
      "[ \"$KBC_CONFIGROWID\" = r2 ] || echo \"[{\\\"metric\\\": \\\"$KBC_CONFIGROWID\\\", "
      "\\\"value\\\": 1}]\" > /data/out/usage.json",
      {{"rows", {{{"id", "r1"}}, {{"id", "r2"}}, {{"id", "r3"}}}}});
  const Run run = run_job(home, file);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.result["usage"] ==
        json::parse(R"([{"metric":"r1","value":1},{"metric":"r3","value":1}])"));
}

TEST_CASE("environment: the KBC_* variables of docker-bundle's Environment", "[e2e][env]") {
  Home home;
  const std::string file =
      component("env | grep ^KBC_ | sort",
                {{"config_version", 7}, {"data_type_support", "hints"}, {"config_id", "c-1"}});
  const Run plain = run_job(
      home, file,
      {"--run-mode", "debug", "--feature-gate", "queuev2", "--feature-gate", "dynamic-backends"});
  REQUIRE(plain.exit_code == 0);
  for (const char* line :
       {"KBC_CONFIGVERSION=7\n", "KBC_DATA_TYPE_SUPPORT=hints\n", "KBC_COMPONENT_RUN_MODE=debug\n",
        "KBC_PROJECT_FEATURE_GATES=queuev2,dynamic-backends\n", "KBC_STAGING_FILE_PROVIDER=local\n",
        "KBC_CONFIGID=c-1\n"})
    CHECK_THAT(plain.stdout_text, Catch::Contains(line));
  CHECK_THAT(plain.stdout_text, !Catch::Contains("KBC_CONFIGROWID"));  // no row
  // A debug run reads the state but never saves it.
  const Run debug =
      run_job(home, component("echo '{\"a\": 1}' > /data/out/state.json"), {"--run-mode", "debug"});
  CHECK(debug.exit_code == 0);
  CHECK_FALSE(debug.result.contains("state"));
}

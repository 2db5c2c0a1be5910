// End-to-end: the real `runner` binary against the real Docker engine and the locally built
// runner-busybox image (scripts/build-images.sh). Each test checks the terminal output, the
// --events JSON Lines file and the exit code, and that no container is left behind.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::run_cli;
using runner_test::temp_file;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

std::string component(const std::string& script, const json& extra = json::object()) {
  json doc = {{"id", "test.e2e"}, {"image", kImage}, {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

std::vector<json> of_source(const std::vector<json>& events, const std::string& source) {
  std::vector<json> out;
  for (const auto& e : events)
    if (e["kind"] == "event" && e["source"] == source) out.push_back(e);
  return out;
}

std::size_t containers_with_label(const std::string& label) {
  runner::docker::EngineClient client(
      runner::docker::EngineEndpoint::from_environment(std::nullopt));
  return client.list_containers({label}).size();
}

struct Run {
  int exit_code;
  std::string terminal;
  std::string err;
  std::vector<json> events;
  json result;
};

Run run_component(const std::string& file, std::vector<std::string> extra_args = {}) {
  const std::string events_path = temp_file("", ".jsonl");
  std::vector<std::string> args = {"run", file, "--events", events_path};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto r = run_cli(args);
  Run run{r.exit_code, r.out, r.err, runner_test::read_json_lines(events_path), json()};
  std::filesystem::remove(events_path);
  if (!run.events.empty() && run.events.back()["kind"] == "result") run.result = run.events.back();
  if (run.result.is_object())
    CHECK(containers_with_label("io.runner.job-id=" + run.result["job_id"].get<std::string>()) ==
          0);
  return run;
}

}  // namespace

TEST_CASE("stdout arrives live, line by line, in order", "[e2e][run]") {
  auto r = run_component(component("for i in 1 2 3 4 5; do echo \"line $i\"; sleep 0.3; done"));
  REQUIRE(r.exit_code == 0);
  const auto lines = of_source(r.events, "stdout");
  REQUIRE(lines.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(lines[i]["message"] == "line " + std::to_string(i + 1));
    CHECK(lines[i]["level"] == "info");
  }
  // Live: each line was stamped when it arrived, not all at the end.
  auto seconds = [](const json& e) {
    const std::string t = e["time"];
    return std::stod(t.substr(17, 9)) + 60 * std::stod(t.substr(14, 2));
  };
  CHECK(seconds(lines[4]) - seconds(lines[0]) > 0.9);
  // Sequence numbers strictly increase; the terminal shows the lines in order.
  for (std::size_t i = 1; i < r.events.size() - 1; ++i)
    CHECK(r.events[i]["seq"].get<int>() == r.events[i - 1]["seq"].get<int>() + 1);
  CHECK(r.terminal.find("line 1") < r.terminal.find("line 5"));
  CHECK(r.result["status"] == "success");
  CHECK(r.terminal.find("succeeded") != std::string::npos);
}

TEST_CASE("stderr is gathered into one error event at the end, even on success", "[e2e][run]") {
  auto r = run_component(
      component("echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf 'no newline'"));
  REQUIRE(r.exit_code == 0);
  const auto out = of_source(r.events, "stdout");
  REQUIRE(out.size() == 3);
  CHECK(out[2]["message"] == "no newline");
  const auto err = of_source(r.events, "stderr");
  REQUIRE(err.size() == 1);
  CHECK(err[0]["message"] == "err1\nerr2");
  CHECK(err[0]["level"] == "error");
  CHECK(err[0]["seq"].get<int>() > out[2]["seq"].get<int>());
  CHECK(r.result["container_exit_code"] == 0);
}

TEST_CASE("exit 1 is a user error carrying stderr and runner exits 1", "[e2e][run]") {
  auto r = run_component(component("echo working; echo 'Table orders not found' >&2; exit 1"));
  CHECK(r.exit_code == 1);
  CHECK(r.result["status"] == "error");
  CHECK(r.result["error_type"] == "user");
  CHECK(r.result["message"] == "Table orders not found");
  CHECK(r.terminal.find("failed (user error)") != std::string::npos);
}

TEST_CASE("exit 1 without stderr takes the message from stdout", "[e2e][run]") {
  auto r = run_component(component("echo 'only stdout says why'; exit 1"));
  CHECK(r.exit_code == 1);
  CHECK(r.result["message"] == "only stdout says why");
}

TEST_CASE("other exit codes are application errors and runner exits 2", "[e2e][run]") {
  auto r = run_component(component("echo 'Traceback: boom' >&2; exit 5"));
  CHECK(r.exit_code == 2);
  CHECK(r.result["error_type"] == "application");
  CHECK(r.result["container_exit_code"] == 5);
  auto user = run_component(
      component("echo handled >&2; exit 5", {{"logging", {{"no_application_errors", true}}}}));
  CHECK(user.exit_code == 1);
  CHECK(user.result["error_type"] == "user");
  CHECK(user.result["message"] == "handled");
}

TEST_CASE("a component out of memory is a user error naming the limit", "[e2e][run]") {
  auto r = run_component(
      component("echo allocating; x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo never",
                {{"limits", {{"memory", "8m"}}}}));
  CHECK(r.exit_code == 1);
  CHECK(r.result["message"] == "Component out of memory (exceeded 8m)");
  CHECK(of_source(r.events, "stdout").size() == 1);
}

TEST_CASE("the timeout kills the container and every earlier line is delivered", "[e2e][run]") {
  auto r =
      run_component(component("i=0; while [ $i -lt 300 ]; do echo \"before $i\"; i=$((i+1)); done; "
                              "printf 'partial'; sleep 60",
                              {{"limits", {{"timeout", 2}}}}));
  CHECK(r.exit_code == 1);
  CHECK(r.result["message"] == "Component exceeded the timeout of 2 seconds");
  CHECK(r.result["duration"].get<double>() < 15);
  const auto out = of_source(r.events, "stdout");
  REQUIRE(out.size() == 301);
  CHECK(out[299]["message"] == "before 299");
  CHECK(out[300]["message"] == "partial");
}

TEST_CASE("SIGTERM and SIGINT mid-run stop the job and leave no container", "[e2e][run][signals]") {
  for (int sig : {SIGTERM, SIGINT}) {
    const std::string events_path = temp_file("", ".jsonl");
    CliProcess p({"run", component("echo started; sleep 60"), "--events", events_path});
    REQUIRE(p.wait_for_output("started"));
    p.signal(sig);
    const int code = p.wait(std::chrono::seconds(30));
    CHECK(code == (sig == SIGTERM ? 143 : 130));
    const auto events = runner_test::read_json_lines(events_path);
    REQUIRE(!events.empty());
    const json& result = events.back();
    CHECK(result["kind"] == "result");
    CHECK(result["status"] == "terminated");
    bool terminated_event = false;
    for (const auto& e : events)
      terminated_event = terminated_event ||
                         (e["kind"] == "event" && e["source"] == "runner" &&
                          e["message"].get<std::string>().find("terminated") != std::string::npos);
    CHECK(terminated_event);
    CHECK(containers_with_label("io.runner.job-id=" + result["job_id"].get<std::string>()) == 0);
    std::filesystem::remove(events_path);
  }
}

TEST_CASE("a missing image is a clear user error and leaves nothing behind", "[e2e][run]") {
  const std::string file =
      temp_file(json{{"id", "test.e2e"}, {"image", "runner-no-such-image:1.0"}}.dump());
  auto r = run_component(file);
  CHECK(r.exit_code == 1);
  CHECK(r.result["error_type"] == "user");
  CHECK_THAT(r.result["message"].get<std::string>(),
             Catch::Contains("image \"runner-no-such-image:1.0\" is not available locally"));
  auto never = run_component(temp_file(json{
      {"id", "test.e2e"},
      {"image", "runner-no-such-image:1.0"},
      {"pull_policy", "never"}}.dump()));
  CHECK(never.exit_code == 1);
  CHECK_THAT(never.result["message"].get<std::string>(),
             Catch::Contains("pull_policy is \"never\""));
}

TEST_CASE("an unreachable engine exits 69", "[e2e][run]") {
  const std::string file = component("echo hi");
  auto r = run_cli({"run", file}, {{"DOCKER_HOST", "unix:///nonexistent/docker.sock"}});
  CHECK(r.exit_code == 69);
  CHECK_THAT(r.out,
             Catch::Contains("cannot reach the Docker engine at unix:///nonexistent/docker.sock"));
  auto flag = run_cli({"run", file, "--docker-host", "unix:///also/missing.sock"});
  CHECK(flag.exit_code == 69);
  CHECK_THAT(flag.out, Catch::Contains("unix:///also/missing.sock"));
}

TEST_CASE("an invalid component file exits 65 with one line per problem and creates nothing",
          "[e2e][run]") {
  const std::string file = temp_file(json{
      {"id", "test.invalid-e2e"},
      {"image", kImage},
      {"limits", {{"memory", "lots"}}},
      {"colour", "red"}}.dump());
  auto r = run_cli({"run", file});
  CHECK(r.exit_code == 65);
  CHECK_THAT(r.err, Catch::Contains(file + ": $.colour: unknown key"));
  CHECK_THAT(r.err, Catch::Contains(file + ": $.limits.memory: expected a size"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 2);
  CHECK(containers_with_label("io.runner.component-id=test.invalid-e2e") == 0);
  auto syntax = run_cli({"run", temp_file("{\"id\": \"x\",\n  \"image\": }")});
  CHECK(syntax.exit_code == 65);
  CHECK_THAT(syntax.err, Catch::Contains("not valid JSON at line 2"));
  CHECK(run_cli({"run"}).exit_code == 64);
  CHECK(run_cli({"run", file, "--no-such-flag"}).exit_code == 64);
}

TEST_CASE("the container gets the Keboola environment, folders, config and labels", "[e2e][run]") {
  const std::string script =
      "echo \"datadir=$KBC_DATADIR run=$KBC_RUNID comp=$KBC_COMPONENTID project=$KBC_PROJECTID "
      "mode=$KBC_COMPONENT_RUN_MODE greet=$GREETING\"; "
      "for d in in/tables in/files in/user out/tables out/files; do [ -d /data/$d ] && echo \"dir "
      "$d\"; done; "
      "cat /data/config.json | tr -d ' \\n'; echo; echo result > /data/out/files/result.txt; touch "
      "/tmp/scratch; echo ready; sleep 1";
  const std::string file = component(script, {{"env", {{"GREETING", "hi"}}},
                                              {"parameters", {{"rows", 3}}},
                                              {"labels", {{"team", "data"}}}});
  const std::string data =
      std::filesystem::temp_directory_path() / ("runner-e2e-data-" + std::to_string(::getpid()));
  std::filesystem::create_directories(data);
  const std::string events_path = temp_file("", ".jsonl");
  CliProcess p({"run", file, "--data-dir", data, "--events", events_path});
  REQUIRE(p.wait_for_output("ready"));
  {
    runner::docker::EngineClient client(
        runner::docker::EngineEndpoint::from_environment(std::nullopt));
    const auto found = client.list_containers({"team=data", "io.runner.component-id=test.e2e"});
    REQUIRE(found.size() == 1);
    CHECK(found[0].labels.at("io.runner.managed") == "true");
    CHECK(!found[0].labels.at("io.runner.job-id").empty());
    CHECK(!found[0].labels.at("io.runner.version").empty());
  }
  REQUIRE(p.wait() == 0);
  const auto events = runner_test::read_json_lines(events_path);
  const json result = events.back();
  const std::string job = result["job_id"];
  std::string out;
  for (const auto& e : of_source(events, "stdout")) out += e["message"].get<std::string>() + "\n";
  CHECK_THAT(out, Catch::Contains("datadir=/data/ run=" + job +
                                  " comp=test.e2e project=local mode=run greet=hi"));
  for (const char* d : {"in/tables", "in/files", "in/user", "out/tables", "out/files"})
    CHECK_THAT(out, Catch::Contains(std::string("dir ") + d));
  CHECK_THAT(out, Catch::Contains(R"("parameters":{"rows":3})"));
  CHECK_THAT(out, Catch::Contains(R"("action":"run")"));
  // --data-dir: outputs stay, the generated config.json does not.
  CHECK(runner_test::read_file(data + "/out/files/result.txt") == "result\n");
  CHECK_FALSE(std::filesystem::exists(data + "/config.json"));
  std::filesystem::remove_all(data);
  std::filesystem::remove(events_path);
}

TEST_CASE("a large output arrives complete and in order", "[e2e][run]") {
  auto r = run_component(
      component("i=0; while [ $i -lt 20000 ]; do echo \"row $i\"; i=$((i+1)); done"), {"--quiet"});
  REQUIRE(r.exit_code == 0);
  const auto out = of_source(r.events, "stdout");
  REQUIRE(out.size() == 20000);
  for (int i = 0; i < 20000; i += 997) CHECK(out[i]["message"] == "row " + std::to_string(i));
  CHECK(out.back()["message"] == "row 19999");
  CHECK(r.terminal.find("row 1") == std::string::npos);  // --quiet
}

TEST_CASE("a huge stderr is kept as its first and last MiB, saying how much was left out",
          "[e2e][run]") {
  // 4 MiB of stderr in 64-byte lines, numbered, then a last line.
  auto r = run_component(component("i=0; while [ $i -lt 65536 ]; do printf 'stderr line %08d "
                                   "...................................\\n' $i >&2; i=$((i+1)); "
                                   "done; echo 'the very end' >&2"),
                         {"--quiet"});
  REQUIRE(r.exit_code == 0);
  const auto err = of_source(r.events, "stderr");
  REQUIRE(err.size() == 1);
  const std::string message = err[0]["message"];
  CHECK(message.size() < 2 * 1024 * 1024 + 200);
  CHECK(message.rfind("stderr line 00000000", 0) == 0);
  CHECK_THAT(message, Catch::Contains("bytes omitted ...]"));
  CHECK_THAT(message, Catch::EndsWith("the very end"));
}

TEST_CASE("runner gc removes the container and working folder of a runner killed with SIGKILL",
          "[e2e][gc]") {
  const std::string file = temp_file(json{
      {"id", "test.gc-orphan"},
      {"image", kImage},
      {"command", {"sh", "-c", "echo started; sleep 120"}},
      {"parameters",
       {{"#password", "left-on-disk"}}}}.dump());
  // A private TMPDIR, so the working folder the killed runner leaves is the only one there.
  const std::string tmp =
      std::filesystem::temp_directory_path() / ("runner-gc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  CliProcess p({"run", file}, {{"TMPDIR", tmp}});
  REQUIRE(p.wait_for_output("started"));
  const std::string owner = std::to_string(p.pid()) + "\n";
  p.signal(SIGKILL);
  p.wait();
  std::vector<std::filesystem::path> folders;
  for (const auto& entry : std::filesystem::directory_iterator(tmp))
    folders.push_back(entry.path());
  REQUIRE(folders.size() == 1);
  CHECK(runner_test::read_file(folders[0] / "owner.pid") == owner);
  CHECK(runner_test::read_file(folders[0] / "data" / "config.json").find("left-on-disk") !=
        std::string::npos);
  REQUIRE(containers_with_label("io.runner.component-id=test.gc-orphan") == 1);
  auto dry = run_cli({"gc", "--dry-run"}, {{"TMPDIR", tmp}});
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would remove"));
  CHECK(containers_with_label("io.runner.component-id=test.gc-orphan") == 1);
  CHECK_THAT(dry.out, Catch::Contains("would remove working folder"));
  CHECK(std::filesystem::exists(folders[0]));
  auto gc = run_cli({"gc"}, {{"TMPDIR", tmp}});
  CHECK(gc.exit_code == 0);
  CHECK_THAT(gc.out, Catch::Contains("is gone"));
  CHECK(containers_with_label("io.runner.component-id=test.gc-orphan") == 0);
  CHECK_FALSE(std::filesystem::exists(folders[0]));
  std::filesystem::remove_all(tmp);
}

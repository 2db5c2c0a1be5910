// End-to-end: the real `runner` binary against the real Docker engine and the locally built
// runner-busybox image (scripts/build-images.sh). Each test checks the terminal output, the
// --events JSON Lines file and the exit code, and that no container is left behind (asked of
// the engine runner used: cli_process.hpp). "Creates nothing" is proved, not inferred from an
// empty container list after the exit: the component would leave a marker in --data-dir, and a
// proxy in front of the engine shows that runner never asked it to create a container.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"
#include "engine_proxy.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::unique_name;

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
  return runner_test::engine_client().list_containers({label}).size();
}

// An event's "time" (2026-11-21T12:03:38.668087Z) as seconds since the epoch.
double epoch_seconds(const json& event) {
  const std::string t = event["time"];
  std::tm tm{};
  REQUIRE(strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  return static_cast<double>(timegm(&tm)) + std::stod(t.substr(19, 7));
}

// A folder of its own under the temp folder, removed at the end of the scope.
struct TempDir : runner_test::TempDir {
  TempDir() : runner_test::TempDir("runner-e2e-run-") {}
  std::vector<std::filesystem::path> entries() const {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path());
    return out;
  }
};

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
  // Live: each line was stamped when it arrived, not all at the end (whole timestamps, so an
  // hour or a day boundary between the lines changes nothing).
  CHECK(epoch_seconds(lines[4]) - epoch_seconds(lines[0]) > 0.9);
  CHECK(epoch_seconds(lines[4]) - epoch_seconds(lines[0]) < 60);
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
  auto r = run_component(file, {"--pull-attempts", "1"});
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
  const std::string events = temp_file("", ".jsonl");
  auto r = run_cli({"run", file, "--events", events, "--store", "none"},
                   {{"DOCKER_HOST", "unix:///nonexistent/docker.sock"}});
  CHECK(r.exit_code == 69);
  CHECK_THAT(r.out,
             Catch::Contains("cannot reach the Docker engine at unix:///nonexistent/docker.sock"));
  const auto records = runner_test::read_json_lines(events);
  REQUIRE_FALSE(records.empty());
  CHECK(records.back()["kind"] == "result");
  CHECK(records.back()["status"] == "error");
  CHECK(records.back()["error_type"] == "engine");
  CHECK(records.back()["exit_code"] == 69);
  std::filesystem::remove(events);
  auto flag = run_cli({"run", file, "--docker-host", "unix:///also/missing.sock"});
  CHECK(flag.exit_code == 69);
  CHECK_THAT(flag.out, Catch::Contains("unix:///also/missing.sock"));
}

TEST_CASE("an invalid component file exits 65 with one line per problem and creates nothing",
          "[e2e][run]") {
  // Were it run, the component would leave /data/out/ran in --data-dir.
  const std::string file = temp_file(json{
      {"id", "test.invalid-e2e"},
      {"image", kImage},
      {"command", {"sh", "-c", "touch /data/out/ran"}},
      {"limits", {{"memory", "lots"}}},
      {"colour", "red"}}.dump());
  TempDir data;
  runner_test::EngineProxy engine;
  auto r = run_cli(
      {"run", file, "--data-dir", data.path.string(), "--docker-host", engine.docker_host()});
  CHECK(r.exit_code == 65);
  CHECK_THAT(r.err, Catch::Contains(file + ": $.colour: unknown key"));
  CHECK_THAT(r.err, Catch::Contains(file + ": $.limits.memory: expected a size"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 2);
  CHECK(engine.count("POST", "/containers/create") == 0);
  CHECK(engine.requests().empty());  // refused before the engine was even asked
  CHECK(data.entries().empty());     // no marker, not even a config.json or out/ folder
  auto syntax = run_cli({"run", temp_file("{\"id\": \"x\",\n  \"image\": }")});
  CHECK(syntax.exit_code == 65);
  CHECK_THAT(syntax.err, Catch::Contains("not valid JSON at line 2"));
  CHECK(run_cli({"run"}).exit_code == 64);
  CHECK(run_cli({"run", file, "--no-such-flag"}).exit_code == 64);
}

TEST_CASE("the container gets the Keboola environment, folders, config and labels", "[e2e][run]") {
  const std::string id = unique_name("test.e2e-env-");
  const std::string script =
      "echo \"datadir=$KBC_DATADIR run=$KBC_RUNID comp=$KBC_COMPONENTID project=$KBC_PROJECTID "
      "branch=$KBC_BRANCHID config=$KBC_CONFIGID version=$KBC_CONFIGVERSION stack=$KBC_STACKID "
      "mode=$KBC_COMPONENT_RUN_MODE greet=$GREETING\"; "
      "for d in in/tables in/files in/user out/tables out/files; do [ -d /data/$d ] && echo \"dir "
      "$d\"; done; "
      "cat /data/config.json | tr -d ' \\n'; echo; echo result > /data/out/files/result.txt; "
      "echo scratch > /tmp/scratch; "
      "echo \"pids.max=$(cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null)\"; "
      "echo ready; sleep 1";
  const std::string file = component(
      script,
      {{"id", id},
       {"env", {{"GREETING", "hi"}}},
       {"parameters", {{"rows", 3}}},
       {"config_id", "cfg-42"},
       {"labels", {{"team", "data"}}},
       {"limits", {{"pids", 64}, {"cpus", 0.5}, {"memory", "64m"}, {"memory_swap", "96m"}}}});
  TempDir data;
  TempDir tmp;  // TMPDIR: the job's private folder is the only one made there
  const std::string events_path = temp_file("", ".jsonl");
  CliProcess p({"run", file, "--data-dir", data.path.string(), "--events", events_path,
                "--project-id", "1234", "--branch-id", "567"},
               {{"TMPDIR", tmp.path.string()}});
  REQUIRE(p.wait_for_output("ready"));
  std::string job_label;
  {
    auto client = runner_test::engine_client();
    client.negotiate();
    const auto found = client.list_containers({"team=data", "io.runner.component-id=" + id});
    REQUIRE(found.size() == 1);
    const auto& labels = found[0].labels;
    CHECK(labels.at("io.runner.managed") == "true");
    CHECK(labels.at("io.runner.component-id") == id);
    job_label = labels.at("io.runner.job-id");
    std::array<char, 256> host{};
    REQUIRE(::gethostname(host.data(), host.size() - 1) == 0);
    CHECK(labels.at("io.runner.host") == host.data());
    CHECK(labels.at("io.runner.pid") == std::to_string(p.pid()));
    const std::string version = run_cli({"version"}).out;
    CHECK(version == "runner " + labels.at("io.runner.version") + "\n");
    // The limits as the engine holds them.
    const auto inspect = client.call("GET", "/containers/" + found[0].id + "/json");
    REQUIRE(inspect.status == 200);
    const json host_config = json::parse(inspect.body)["HostConfig"];
    CHECK(host_config["PidsLimit"] == 64);
    CHECK(host_config["NanoCpus"] == 500000000);
    CHECK(host_config["Memory"] == 64 * 1024 * 1024);
    CHECK(host_config["MemorySwap"] == 96 * 1024 * 1024);
    // /tmp is the private folder's tmp/, which the container has written to by now.
    const auto folders = tmp.entries();
    REQUIRE(folders.size() == 1);
    CHECK(folders[0].filename().string().rfind("runner-", 0) == 0);
    CHECK(runner_test::read_file(folders[0] / "tmp" / "scratch") == "scratch\n");
    // Podman reports a bind with its options added ("SRC:/tmp:rw,rprivate,rbind").
    bool tmp_bound = false;
    const std::string wanted = (folders[0] / "tmp").string() + ":/tmp";
    for (const auto& bind : host_config["Binds"]) {
      const std::string text = bind.get<std::string>();
      tmp_bound = tmp_bound || text == wanted || text.rfind(wanted + ":", 0) == 0;
    }
    CHECK(tmp_bound);
  }
  REQUIRE(p.wait() == 0);
  const auto events = runner_test::read_json_lines(events_path);
  const json result = events.back();
  const std::string job = result["job_id"];
  CHECK(job_label == job);
  std::string out;
  for (const auto& e : of_source(events, "stdout")) out += e["message"].get<std::string>() + "\n";
  CHECK_THAT(out, Catch::Contains("datadir=/data/ run=" + job + " comp=" + id +
                                  " project=1234 branch=567 config=cfg-42 version=1 stack=local "
                                  "mode=run greet=hi"));
  for (const char* d : {"in/tables", "in/files", "in/user", "out/tables", "out/files"})
    CHECK_THAT(out, Catch::Contains(std::string("dir ") + d));
  CHECK_THAT(out, Catch::Contains(R"("parameters":{"rows":3})"));
  CHECK_THAT(out, Catch::Contains(R"("action":"run")"));
  CHECK_THAT(out, Catch::Contains("pids.max=64\n"));  // the limit inside the container
  // --data-dir: outputs stay, the generated config.json does not; the private folder with /tmp
  // is gone.
  CHECK(runner_test::read_file(data.path / "out/files/result.txt") == "result\n");
  CHECK_FALSE(std::filesystem::exists(data.path / "config.json"));
  CHECK(tmp.entries().empty());
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
  // --quiet: no info lines on the terminal, but the summary is there.
  CHECK(r.terminal.find("row 1") == std::string::npos);
  CHECK(r.terminal.find("INFO") == std::string::npos);
  CHECK_THAT(r.terminal,
             Catch::Contains("Job " + r.result["job_id"].get<std::string>() + " succeeded in "));
}

TEST_CASE("a huge stderr is kept as its first and last MiB, saying how much was left out",
          "[e2e][run]") {
  // 3.5 MiB of stderr in 57-byte lines, numbered, then a last line.
  auto r = run_component(component("i=0; while [ $i -lt 65536 ]; do printf 'stderr line %08d "
                                   "...................................\\n' $i >&2; i=$((i+1)); "
                                   "done; echo 'the very end' >&2"),
                         {"--quiet"});
  REQUIRE(r.exit_code == 0);
  // What the component wrote, byte for byte.
  std::string written;
  for (int i = 0; i < 65536; ++i) {
    char line[80];
    std::snprintf(line, sizeof line, "stderr line %08d ...................................\n", i);
    written += line;
  }
  REQUIRE(written.size() == 65536u * 57u);
  written += "the very end\n";
  constexpr std::size_t kMiB = 1024 * 1024;
  const std::size_t omitted = written.size() - 2 * kMiB;
  const auto err = of_source(r.events, "stderr");
  REQUIRE(err.size() == 1);
  const std::string message = err[0]["message"];
  const std::string marker = "\n[... " + std::to_string(omitted) + " bytes omitted ...]\n";
  // Exactly the first MiB, the marker with the exact count, the last MiB (its final newline
  // trimmed, as every message's).
  CHECK(message.size() == kMiB + marker.size() + kMiB - 1);
  CHECK(message.substr(0, kMiB) == written.substr(0, kMiB));
  CHECK(message.substr(kMiB, marker.size()) == marker);
  CHECK(message.substr(kMiB + marker.size()) == written.substr(written.size() - kMiB, kMiB - 1));
  // --quiet still shows errors.
  CHECK_THAT(r.terminal, Catch::Contains("ERROR") && Catch::Contains("the very end"));
}

TEST_CASE("runner gc removes the container and working folder of a runner killed with SIGKILL",
          "[e2e][gc]") {
  const std::string id = unique_name("test.gc-orphan-");
  const std::string file = temp_file(json{
      {"id", id},
      {"image", kImage},
      {"command", {"sh", "-c", "echo started; sleep 120"}},
      {"parameters",
       {{"#password", "left-on-disk"}}}}.dump());
  // A private TMPDIR, so the working folder the killed runner leaves is the only one there.
  TempDir tmp;
  CliProcess p({"run", file}, {{"TMPDIR", tmp.path.string()}});
  REQUIRE(p.wait_for_output("started"));
  const std::string owner = std::to_string(p.pid()) + "\n";
  p.signal(SIGKILL);
  p.wait();
  const auto folders = tmp.entries();
  REQUIRE(folders.size() == 1);
  CHECK(runner_test::read_file(folders[0] / "owner.pid") == owner);
  CHECK(runner_test::read_file(folders[0] / "data" / "config.json").find("left-on-disk") !=
        std::string::npos);
  REQUIRE(containers_with_label("io.runner.component-id=" + id) == 1);
  // gc sees the shared engine through a proxy that lists only this test's containers: other
  // tests' orphans (a killed worker's container waiting for its take-over) are not its to take.
  runner_test::EngineProxy engine(runner_test::EngineProxy::Listen::unix_socket,
                                  "io.runner.component-id=" + id);
  auto dry = run_cli({"gc", "--dry-run", "--docker-host", engine.docker_host()},
                     {{"TMPDIR", tmp.path.string()}});
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would remove runner-"));
  CHECK_THAT(dry.out, Catch::Contains("1 runner container(s) found, 0 removed"));
  CHECK(containers_with_label("io.runner.component-id=" + id) == 1);
  CHECK_THAT(dry.out, Catch::Contains("would remove working folder " + folders[0].string()));
  CHECK(std::filesystem::exists(folders[0]));
  auto gc = run_cli({"gc", "--docker-host", engine.docker_host()}, {{"TMPDIR", tmp.path.string()}});
  CHECK(gc.exit_code == 0);
  CHECK_THAT(gc.out, Catch::Contains("its runner (pid " + std::to_string(p.pid()) + ") is gone"));
  CHECK_THAT(gc.out, Catch::Contains("1 runner container(s) found, 1 removed"));
  CHECK(containers_with_label("io.runner.component-id=" + id) == 0);
  CHECK_FALSE(std::filesystem::exists(folders[0]));
  std::size_t deletes = 0;
  for (const auto& request : engine.requests()) deletes += request.method == "DELETE" ? 1 : 0;
  CHECK(deletes == 1);  // the orphan, and nothing else
}

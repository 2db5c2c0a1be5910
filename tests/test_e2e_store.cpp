// End-to-end: `runner run` keeps each job and its events in the store (SQLite file, and the
// PostgreSQL server started by the test set-up), and `runner jobs`, `runner logs` (levels, JSON,
// --follow on a running job) and `runner show` read them back; only scrubbed text is stored;
// `runner ship` sends what was stored to a file exporter, and a second pass sends nothing new;
// a damaged or foreign database file is exit 74 with a message saying so.
#include "cli_process.hpp"
#include "engine_proxy.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::json_lines;
using runner_test::PgSchema;
using runner_test::read_file;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::TempDir;
using runner_test::unique_name;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

std::string component(const std::string& script, const std::string& ns,
                      const json& extra = json::object()) {
  json doc = {{"id", "test.store"},
              {"namespace", ns},
              {"image", kImage},
              {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

// The job id printed on the summary line of `runner run`.
std::string job_id_of(const runner_test::CliResult& r) {
  const auto pos = r.out.find("Job ");
  REQUIRE(pos != std::string::npos);
  return r.out.substr(pos + 4, 36);
}

void check_store_round_trip(const std::string& store) {
  const std::string ns = unique_name("e2e.store");
  auto r = run_cli({"run", component("echo one; echo two >&2; echo three; exit 1", ns), "--store",
                    store, "--no-color"});
  REQUIRE(r.exit_code == 1);
  const std::string job = job_id_of(r);

  auto jobs = run_cli({"jobs", "--store", store, "--namespace", ns, "--json"});
  REQUIRE(jobs.exit_code == 0);
  const auto listed = json_lines(jobs.out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["job_id"] == job);
  CHECK(listed[0]["status"] == "error");
  CHECK(listed[0]["error_type"] == "user");
  CHECK(listed[0]["exit_code"] == 1);
  CHECK(listed[0]["container_exit_code"] == 1);
  CHECK(listed[0]["namespace"] == ns);
  CHECK(listed[0]["component_id"] == "test.store");
  CHECK(listed[0]["message"] == "two");

  auto table = run_cli({"jobs", "--store", store, "--namespace", ns});
  CHECK_THAT(table.out, Catch::Contains(job) && Catch::Contains("error"));

  auto logs = run_cli({"logs", job.substr(0, 13), "--store", store, "--json"});
  REQUIRE(logs.exit_code == 0);
  const auto events = json_lines(logs.out);
  std::vector<std::string> stdout_lines;
  for (const auto& e : events) {
    CHECK(e["id"].get<std::string>().rfind(job + "-", 0) == 0);
    if (e["source"] == "stdout") stdout_lines.push_back(e["message"]);
  }
  CHECK(stdout_lines == std::vector<std::string>{"one", "three"});

  auto errors = run_cli({"logs", job, "--store", store, "--json", "--level", "error"});
  const auto error_events = json_lines(errors.out);
  REQUIRE_FALSE(error_events.empty());
  for (const auto& e : error_events) CHECK((e["level"] == "error" || e["level"] == "critical"));

  auto text = run_cli({"logs", job, "--store", store, "--no-color"});
  CHECK_THAT(text.out, Catch::Contains("one") && Catch::Contains("three"));

  auto show = run_cli({"show", job, "--store", store});
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.out, Catch::Contains("Status      error (user error), exit code 1"));
  CHECK_THAT(show.out, Catch::Contains("Namespace   " + ns));

  auto missing = run_cli({"show", "00000000-0000-7000-8000-000000000000", "--store", store});
  CHECK(missing.exit_code == 66);
  CHECK_THAT(missing.err, Catch::Contains("no job"));
}

}  // namespace

TEST_CASE("runner run keeps the job and its events in SQLite", "[e2e][store][sqlite]") {
  TempDir dir;
  check_store_round_trip("sqlite:" + (dir.path / "runner.db").string());
}

TEST_CASE("runner run keeps the job and its events in PostgreSQL", "[e2e][store][postgres]") {
  // A schema of its own: the database is shared with other tests (and other schema versions).
  const PgSchema schema("e2e_store_");
  check_store_round_trip(schema.url());
}

TEST_CASE("only scrubbed text reaches the store", "[e2e][store][secrets]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const std::string secret = "s3cr3t-" + unique_name("v");
  auto r = run_cli(
      {"run",
       component("echo \"token=$TOKEN\"; printf '%s' \"$TOKEN\" | base64; echo \"$TOKEN\" >&2",
                 "default", json{{"env", {{"#TOKEN", secret}}}}),
       "--store", store});
  REQUIRE(r.exit_code == 0);
  const std::string job = job_id_of(r);
  auto logs = run_cli({"logs", job, "--store", store, "--json"});
  CHECK_THAT(logs.out, Catch::Contains("token=[hidden]"));
  CHECK_THAT(logs.out, !Catch::Contains(secret));
  // Not in the database file or its write-ahead log either.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path))
    CHECK(read_file(entry.path()).find(secret) == std::string::npos);
}

TEST_CASE("runner logs --follow streams a running job until it ends", "[e2e][store]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const std::string ns = unique_name("e2e.follow");
  CliProcess run({"run",
                  component("for i in 1 2 3 4 5 6; do echo \"tick $i\"; sleep 0.5; done", ns),
                  "--store", store, "--no-color"});
  // Wait for the job to appear in the store.
  std::string job;
  for (int i = 0; i < 100 && job.empty(); ++i) {
    auto jobs = run_cli({"jobs", "--store", store, "--namespace", ns, "--json"});
    const auto listed = json_lines(jobs.out);
    if (!listed.empty())
      job = listed[0]["job_id"];
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_FALSE(job.empty());
  CliProcess follow({"logs", job, "--follow", "--json", "--store", store});
  CHECK(follow.wait_for_output("tick 2", std::chrono::seconds(30)));
  CHECK(follow.out().find("tick 6") == std::string::npos);  // live: the job is still running
  CHECK(follow.wait(std::chrono::seconds(60)) == 0);        // ends by itself with the job
  CHECK(run.wait(std::chrono::seconds(60)) == 0);
  std::vector<std::string> ticks;
  for (const auto& e : json_lines(follow.out()))
    if (e["source"] == "stdout") ticks.push_back(e["message"]);
  REQUIRE(ticks.size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(ticks[i] == "tick " + std::to_string(i + 1));
}

TEST_CASE("runner ship sends stored events to files and a second pass sends nothing new",
          "[e2e][store][shipper]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const std::string ns = unique_name("e2e.ship");
  for (int i = 0; i < 2; ++i)
    REQUIRE(
        run_cli({"run", component("for i in 1 2 3; do echo line $i; done", ns), "--store", store})
            .exit_code == 0);
  const auto out_dir = dir.path / "shipped";
  const std::string config =
      temp_file("logExporters:\n  - id: files\n    type: file\n    path: " + out_dir.string() +
                    "\nnamespace: " + ns + "\nsettlePeriod: PT0S\nlogLevelFilter: INFO\n",
                ".yaml");
  auto first = run_cli({"ship", "--config", config, "--store", store});
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.out, Catch::Contains("shipped"));
  std::vector<json> shipped;
  for (const auto& entry : std::filesystem::directory_iterator(out_dir))
    for (auto& e : json_lines(read_file(entry.path()))) shipped.push_back(e);
  int stdout_lines = 0;
  for (const auto& e : shipped) {
    CHECK(e["namespace"] == ns);
    CHECK(e.contains("id"));
    if (e["source"] == "stdout") ++stdout_lines;
  }
  CHECK(stdout_lines == 6);
  auto files = [&] {
    std::map<std::string, std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(out_dir))
      out[entry.path().filename().string()] = read_file(entry.path());
    return out;
  };
  const auto after_first = files();
  auto second = run_cli({"ship", "--config", config, "--store", store});
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.out, Catch::Contains("shipped 0 event(s)"));
  CHECK(files() == after_first);  // no new file, no line added to an old one
}

TEST_CASE("a bad shipper config names the property and exits 65", "[e2e][shipper]") {
  const std::string config = temp_file("logExporters:\n  - id: x\nbatchSize: lots\n", ".yaml");
  auto r = run_cli({"ship", "--config", config, "--store", "none"});
  CHECK(r.exit_code == 65);
  CHECK_THAT(r.err, Catch::Contains("batchSize: expected an integer"));
  CHECK_THAT(r.err, Catch::Contains("logExporters[0].type: required"));
}

TEST_CASE("an explicit store that cannot be opened is a usage error", "[e2e][store]") {
  // A well-formed URL whose database cannot be opened: its folder would have to be made inside
  // a regular file.
  TempDir dir;
  const std::string not_a_folder = (dir.path / "file").string();
  std::ofstream(not_a_folder) << "x";
  runner_test::EngineProxy engine;
  auto r =
      run_cli({"run", component("echo hi", "default"), "--store",
               "sqlite:" + not_a_folder + "/runner.db", "--docker-host", engine.docker_host()});
  CHECK(r.exit_code == 64);
  CHECK_THAT(r.err, Catch::Contains("--store") && Catch::Contains(not_a_folder + "/runner.db"));
  CHECK(engine.count("POST", "/containers/create") == 0);  // refused before anything ran
  auto scheme = run_cli({"run", component("echo hi", "default"), "--store", "mysql://nope"});
  CHECK(scheme.exit_code == 64);
  CHECK_THAT(scheme.err, Catch::Contains("--store"));
}

// Every reading command on a file that is not a store, or a store cut short (a disk that filled,
// a copy that stopped), exits 74 (store unavailable) and says the file is damaged.
TEST_CASE("runner jobs, logs and show on a damaged database exit 74 and say so",
          "[e2e][store][sqlite]") {
  TempDir dir;
  const auto good = dir.path / "good.db";
  json spec = {{"id", "test.store"}, {"image", kImage}, {"command", {"sh", "-c", "true"}}};
  spec["parameters"] = {{"padding", std::string(3000, 'p')}};
  const std::string file = temp_file(spec.dump());
  std::string id;
  for (int i = 0; i < 40; ++i) {
    auto r = run_cli({"submit", file, "--store", "sqlite:" + good.string()});
    REQUIRE(r.exit_code == 0);
    id = r.out.substr(0, 36);
  }
  REQUIRE(run_cli({"show", id, "--store", "sqlite:" + good.string()}).exit_code == 0);
  const std::string bytes = read_file(good);
  REQUIRE(bytes.size() > 4 * 16384);

  std::random_device rd;
  std::string garbage(64 * 1024, '\0');
  for (auto& c : garbage) c = static_cast<char>(rd() & 0xff);
  const std::map<std::string, std::string> damaged = {
      {"garbage.db", garbage},
      {"text.db", std::string(20000, 'x')},
      {"truncated.db", bytes.substr(0, 16384)},              // the schema page only
      {"half.db", bytes.substr(0, bytes.size() / 2 + 100)},  // cut inside a page
      // The jobs table's first page overwritten: the file opens, reading jobs fails.
      {"page2.db", bytes.substr(0, 2 * 16384) + garbage.substr(0, 16384) + bytes.substr(3 * 16384)},
  };
  for (const auto& [name, content] : damaged) {
    const auto path = dir.path / name;
    std::ofstream(path, std::ios::binary) << content;
    const std::string store = "sqlite:" + path.string();
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"jobs", "--store", store},
                                               {"jobs", "--store", store, "--json"},
                                               {"show", id, "--store", store},
                                               {"logs", id, "--store", store}}) {
      auto r = run_cli(args);
      INFO(name << ": runner " << args[0] << " said: " << r.out << r.err);
      CHECK(r.exit_code == 74);
      CHECK_THAT(r.err, Catch::Contains(path.string()) && Catch::Contains("damaged"));
    }
  }
}

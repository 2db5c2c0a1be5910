// End-to-end: the store, queue and shipper commands' documented behaviour that no other test
// reaches: exit 74 from every command when the store cannot be opened (a folder that would have
// to be made inside a file, a file that is no database, a PostgreSQL server that is not there),
// exit 66 from `logs` and `cancel`, `jobs --status`, `submit --namespace`, and `runner ship`:
// exit 75 with the offset kept, a non-zero settlePeriod holding young events back, `--every`.
// SQLite stores in temporary folders; the shipper writes to the file exporter.
#include "cli_process.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::json_lines;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::TempDir;
using runner_test::unique_name;

namespace {

std::string component(const std::string& script, const std::string& ns) {
  return temp_file(json{{"id", "test.commands"},
                        {"namespace", ns},
                        {"image", "runner-busybox:latest"},
                        {"command", {"sh", "-c", script}}}
                       .dump());
}

// Runs a job into `store`; returns its id.
std::string run_job(const std::string& store, const std::string& script, const std::string& ns) {
  const auto r = run_cli({"run", component(script, ns), "--store", store});
  REQUIRE(r.exit_code == 0);
  const auto at = r.out.find("Job ");
  REQUIRE(at != std::string::npos);
  return r.out.substr(at + 4, 36);
}

std::string shipper_config(const std::filesystem::path& folder, const std::string& ns,
                           const std::string& extra = "") {
  return temp_file("logExporters:\n  - id: archive\n    type: file\n    path: " + folder.string() +
                       "\nnamespace: " + ns + "\nlogLevelFilter: DEBUG\n" + extra,
                   ".yaml");
}

// Every line of every file the file exporter wrote into `folder`.
std::vector<json> shipped(const std::filesystem::path& folder) {
  std::vector<json> out;
  if (!std::filesystem::exists(folder)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    for (auto& e : json_lines(runner_test::read_file(entry.path()))) out.push_back(std::move(e));
  return out;
}

std::map<std::string, int> id_counts(const std::vector<json>& events) {
  std::map<std::string, int> counts;
  for (const auto& e : events) ++counts[e["id"].get<std::string>()];
  return counts;
}

// The ids of a job's stored events, as `runner logs --json` gives them.
std::set<std::string> stored_ids(const std::string& store, const std::string& job) {
  std::set<std::string> ids;
  for (const auto& e : json_lines(run_cli({"logs", job, "--store", store, "--json"}).out))
    ids.insert(e["id"].get<std::string>());
  return ids;
}

}  // namespace

TEST_CASE("every store command exits 74 when the store cannot be opened",
          "[e2e][commands][store]") {
  TempDir dir;
  std::ofstream(dir.path / "file") << "a regular file";
  std::ofstream(dir.path / "garbage.db") << std::string(8192, 'x');
  const std::string config = shipper_config(dir.path / "out", "default");
  const std::string file = component("true", "default");
  const std::string id = "00000000-0000-7000-8000-000000000000";
  const std::vector<std::string> stores = {
      "sqlite:" + (dir.path / "file" / "runner.db").string(),  // its folder cannot be made
      "sqlite:" + (dir.path / "garbage.db").string(),          // not a database
      "postgresql://runner:pw@127.0.0.1:" + std::to_string(runner_test::unused_tcp_port()) +
          "/runner?connect_timeout=5",  // no server there
  };
  for (const auto& store : stores) {
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"jobs"},
             {"logs", id},
             {"show", id},
             {"cancel", id},
             {"ship", "--config", config},
             {"submit", file},
             {"worker", "--max-jobs", "1"},
         }) {
      std::vector<std::string> full = args;
      full.insert(full.end(), {"--store", store});
      INFO(store << " " << args[0]);
      const auto r = run_cli(full);
      CHECK(r.exit_code == 74);
      CHECK_THAT(r.err, Catch::StartsWith("runner: "));
      CHECK(r.err.find(":pw@") == std::string::npos);  // a password never appears
    }
  }
  CHECK_FALSE(std::filesystem::exists(dir.path / "out"));
}

TEST_CASE("logs, show and cancel exit 66 for a job that is not in the store",
          "[e2e][commands][store]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  REQUIRE(run_cli({"jobs", "--store", store}).exit_code == 0);  // creates the store
  for (const char* command : {"logs", "show", "cancel"}) {
    INFO(command);
    const auto r = run_cli({command, "00000000-0000-7000-8000-000000000000", "--store", store});
    CHECK(r.exit_code == 66);
    CHECK_THAT(r.err, Catch::Contains("no job 00000000-0000-7000-8000-000000000000 in sqlite:"));
  }
}

TEST_CASE("logs --follow ends with the job's status line and jobs shows both exit codes",
          "[e2e][commands][store]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const auto r = run_cli({"run", component("echo working; exit 3", "team.f"), "--store", store});
  REQUIRE(r.exit_code == 2);  // an application error: runner's 2, the container's 3
  const auto at = r.out.find("Job ");
  REQUIRE(at != std::string::npos);
  const std::string job = r.out.substr(at + 4, 36);

  const auto followed = run_cli({"logs", job, "--store", store, "--follow"});
  CHECK(followed.exit_code == 0);
  CHECK_THAT(followed.out, Catch::Contains("working"));
  const std::string last_line =
      followed.out.substr(followed.out.rfind('\n', followed.out.size() - 2) + 1);
  CHECK_THAT(last_line, Catch::StartsWith("Job " + job + " failed (application error)") &&
                            Catch::Contains("container exit code 3"));
  // Without --follow, or as JSON, no status line is added.
  CHECK_THAT(run_cli({"logs", job, "--store", store}).out, !Catch::Contains("Job " + job));
  CHECK_THAT(run_cli({"logs", job, "--store", store, "--follow", "--json"}).out,
             !Catch::Contains("failed (application"));

  const auto listed = run_cli({"jobs", "--store", store});
  CHECK_THAT(listed.out, Catch::Contains("EXIT(RUNNER/CONTAINER)") && Catch::Contains(" 2/3\n"));
}

TEST_CASE("submit --namespace and jobs --status", "[e2e][commands][queue]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "queue.db").string();
  const std::string file = component("true", "team.a");
  const auto submitted = run_cli({"submit", file, "--store", store, "--namespace", "team.b"});
  REQUIRE(submitted.exit_code == 0);
  const std::string moved = submitted.out.substr(0, 36);
  const auto plain = run_cli({"submit", file, "--store", store});
  REQUIRE(plain.exit_code == 0);
  const std::string kept = plain.out.substr(0, 36);
  REQUIRE(run_cli({"cancel", kept, "--store", store}).exit_code == 0);

  const json shown = json::parse(run_cli({"show", moved, "--store", store, "--json"}).out);
  CHECK(shown["namespace"] == "team.b");  // the option overrides the file's namespace
  CHECK(json::parse(run_cli({"show", kept, "--store", store, "--json"}).out)["namespace"] ==
        "team.a");
  // The queued spec says so too, so a worker runs it in that namespace.
  auto ids = [&](const std::vector<std::string>& filter) {
    std::vector<std::string> args = {"jobs", "--store", store, "--json"};
    args.insert(args.end(), filter.begin(), filter.end());
    const auto r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> out;
    for (const auto& j : json_lines(r.out)) out.push_back(j["job_id"]);
    return out;
  };
  CHECK(ids({"--status", "waiting"}) == std::vector<std::string>{moved});
  CHECK(ids({"--status", "cancelled"}) == std::vector<std::string>{kept});
  CHECK(ids({"--status", "success"}).empty());
  CHECK(ids({"--namespace", "team.b"}) == std::vector<std::string>{moved});
  CHECK(ids({"--namespace", "team"}).size() == 2);  // "team" covers team.a and team.b
  CHECK(ids({}).size() == 2);
  const auto bad = run_cli({"jobs", "--store", store, "--status", "finished"});
  CHECK(bad.exit_code == 64);
}

TEST_CASE("runner ship: an exporter that keeps failing exits 75 and the offset stays",
          "[e2e][commands][shipper]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const std::string ns = unique_name("ship.fail");
  const std::string job = run_job(store, "for i in 1 2 3; do echo line $i; done", ns);
  const std::set<std::string> ids = stored_ids(store, job);
  REQUIRE(ids.size() >= 3);
  const auto archive = dir.path / "archive";
  // The file exporter takes the batch, then the search exporter (nothing listens) fails it.
  const std::string config = temp_file(
      "namespace: " + ns +
          "\nlogLevelFilter: DEBUG\nsettlePeriod: PT0S\nmaxRetries: 1\nretryDelay: PT0.1S\n"
          "offsetKey: e2e-fail\nlogExporters:\n  - id: archive\n    type: file\n    path: " +
          archive.string() +
          "\n  - id: search\n    type: elasticsearch\n    url: http://127.0.0.1:" +
          std::to_string(runner_test::unused_tcp_port()) + "\n",
      ".yaml");
  const auto first = run_cli({"ship", "--config", config, "--store", store});
  CHECK(first.exit_code == 75);
  CHECK_THAT(first.err, Catch::Contains("exporter \"search\" failed (attempt 1), retrying"));
  CHECK(id_counts(shipped(archive)).size() == ids.size());  // the archive took the batch once
  // The offset did not move: a pass with only the archive, same offset key, sends the batch
  // again (at-least-once: the archive has it twice, nothing is missing).
  const std::string archive_only = temp_file(
      "namespace: " + ns +
          "\nlogLevelFilter: DEBUG\nsettlePeriod: PT0S\noffsetKey: e2e-fail\nlogExporters:\n"
          "  - id: archive\n    type: file\n    path: " +
          archive.string() + "\n",
      ".yaml");
  const auto second = run_cli({"ship", "--config", archive_only, "--store", store});
  CHECK(second.exit_code == 0);
  const auto counts = id_counts(shipped(archive));
  CHECK(counts.size() == ids.size());
  for (const auto& id : ids) CHECK(counts.count(id) == 1);
  for (const auto& [id, n] : counts) CHECK(n == 2);
}

TEST_CASE("runner ship: a settlePeriod holds young events back for a later pass",
          "[e2e][commands][shipper]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const std::string ns = unique_name("ship.settle");
  const std::string job = run_job(store, "echo one; echo two", ns);
  const std::set<std::string> ids = stored_ids(store, job);
  const auto out = dir.path / "out";
  const auto held = run_cli(
      {"ship", "--config", shipper_config(out, ns, "settlePeriod: PT1H\n"), "--store", store});
  CHECK(held.exit_code == 0);
  CHECK_THAT(held.out, Catch::StartsWith("shipped 0 event(s)"));
  CHECK(shipped(out).empty());
  // The offset did not move past them: once settled (here: a zero period), all of them go.
  const auto settled = run_cli(
      {"ship", "--config", shipper_config(out, ns, "settlePeriod: PT0S\n"), "--store", store});
  CHECK(settled.exit_code == 0);
  const auto counts = id_counts(shipped(out));
  CHECK(counts.size() == ids.size());
  for (const auto& id : ids) CHECK(counts.count(id) == 1);
}

TEST_CASE("runner ship --every repeats its pass until SIGTERM", "[e2e][commands][shipper]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const std::string ns = unique_name("ship.every");
  const std::string first_job = run_job(store, "echo first", ns);
  const auto out = dir.path / "out";
  CliProcess ship({"ship", "--config", shipper_config(out, ns, "settlePeriod: PT0S\n"), "--every",
                   "0.3", "--store", store});
  auto wait_for = [&](const std::set<std::string>& wanted) {
    for (int i = 0; i < 300; ++i) {
      const auto counts = id_counts(shipped(out));
      bool all = true;
      for (const auto& id : wanted) all = all && counts.count(id) == 1;
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  const auto first_ids = stored_ids(store, first_job);
  CHECK(wait_for(first_ids));
  // A job that ran after the first pass is shipped by a later one, without a restart.
  const std::string second_job = run_job(store, "echo second", ns);
  const auto second_ids = stored_ids(store, second_job);
  CHECK(wait_for(second_ids));
  ship.signal(SIGTERM);
  CHECK(ship.wait(std::chrono::seconds(30)) == 0);
  std::size_t passes = 0;
  std::istringstream lines(ship.out());
  for (std::string line; std::getline(lines, line);) passes += line.rfind("shipped ", 0) == 0;
  CHECK(passes >= 2);
  const auto counts = id_counts(shipped(out));
  CHECK(counts.size() == first_ids.size() + second_ids.size());
  for (const auto& [id, n] : counts) CHECK(n == 1);  // each event once, however many passes
}

// End-to-end: the job queue with real `runner worker` processes on the real Docker engine, on
// PostgreSQL (the server started by the test set-up; each test in its own schema) and on SQLite.
// 3 workers x 60 jobs each run exactly once; a running job is cancelled; a worker killed with
// SIGKILL mid-job has its job taken over (re-attached) by another; a job whose workers keep
// dying ends as error after 3 attempts; SIGTERM drains; submit never
// stores a plain secret; 48 jobs at once keep every line of their output whole.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
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

constexpr const char* kImage = "runner-busybox:latest";

std::string component(const std::string& script, const json& extra = json::object()) {
  json doc = {{"id", "test.worker"}, {"image", kImage}, {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

// A store of its own for one test: a PostgreSQL schema (dropped at the end) or an SQLite file.
struct QueueStore {
  std::string url;
  std::unique_ptr<runner_test::PgSchema> schema;
  std::unique_ptr<TempDir> dir;

  static QueueStore postgres() {
    QueueStore s;
    s.schema = std::make_unique<runner_test::PgSchema>("w_");
    s.url = s.schema->url();
    return s;
  }
  static QueueStore sqlite() {
    QueueStore s;
    s.dir = std::make_unique<TempDir>("runner-queue-");
    s.url = "sqlite:" + (s.dir->path / "queue.db").string();
    return s;
  }
};

std::string submit(const QueueStore& store, const std::string& file,
                   const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"submit", file, "--store", store.url};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_cli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string id = r.out.substr(0, r.out.find('\n'));
  REQUIRE(id.size() == 36);
  return id;
}

json job(const QueueStore& store, const std::string& id) {
  auto r = run_cli({"show", id, "--store", store.url, "--json"});
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::vector<json> all_jobs(const QueueStore& store) {
  return json_lines(run_cli({"jobs", "--store", store.url, "--json", "--limit", "1000"}).out);
}

// Waits until `pred(job)` holds; returns the last state seen.
json wait_for_job(const QueueStore& store, const std::string& id,
                  const std::function<bool(const json&)>& pred,
                  std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  json state;
  while (std::chrono::steady_clock::now() < deadline) {
    state = job(store, id);
    if (pred(state)) return state;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return state;
}

bool is_final(const json& j) {
  static const std::set<std::string> kFinal = {"success", "warning", "error", "cancelled",
                                               "terminated"};
  return kFinal.count(j["status"].get<std::string>()) != 0;
}

std::size_t containers_of(const std::string& job_id) {
  return runner_test::engine_client().list_containers({"io.runner.job-id=" + job_id}).size();
}

std::vector<json> stored_events(const QueueStore& store, const std::string& id) {
  return json_lines(run_cli({"logs", id, "--store", store.url, "--json"}).out);
}

void many_workers_run_each_job_once(const QueueStore& store, int workers, int jobs) {
  std::vector<std::string> ids;
  for (int i = 0; i < jobs; ++i)
    ids.push_back(submit(store, component("echo \"job " + std::to_string(i) + " ran\"")));
  std::vector<std::unique_ptr<CliProcess>> procs;
  for (int w = 0; w < workers; ++w)
    procs.push_back(std::make_unique<CliProcess>(std::vector<std::string>{
        "worker", "--store", store.url, "--concurrency", "2", "--id", "w" + std::to_string(w)}));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  std::size_t done = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    done = 0;
    for (const auto& j : all_jobs(store)) done += is_final(j) ? 1 : 0;
    if (done == ids.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (auto& p : procs) p->signal(SIGTERM);
  for (auto& p : procs) CHECK(p->wait(std::chrono::seconds(60)) == 0);
  REQUIRE(done == ids.size());

  // Each job: success, claimed once, by one worker, its output stored once.
  std::map<std::string, int> claims;
  for (auto& p : procs) {
    std::istringstream in(p->out());
    std::string line;
    while (std::getline(in, line))
      if (line.find("): claimed") != std::string::npos) ++claims[line.substr(4, 36)];
  }
  std::set<std::string> workers_used;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const json j = job(store, ids[i]);
    CHECK(j["status"] == "success");
    CHECK(j["attempts"] == 1);
    CHECK(claims[ids[i]] == 1);
    workers_used.insert(j["worker_id"].get<std::string>());
    int ran = 0, started = 0;
    const auto events = stored_events(store, ids[i]);
    // What was stored, and what its worker printed, to tell a lost line from a lost store write.
    std::string seen;
    for (const auto& e : events) seen += e.dump() + "\n";
    for (auto& p : procs) {
      std::istringstream in(p->out());
      for (std::string line; std::getline(in, line);)
        if (line.find(ids[i]) != std::string::npos) seen += "worker: " + line + "\n";
    }
    INFO("job " << i << " (" << ids[i] << ") stored:\n" << seen << "in " << j.dump());
    for (const auto& e : events) {
      if (e["source"] == "stdout" && e["message"] == "job " + std::to_string(i) + " ran") ++ran;
      if (e["source"] == "runner" &&
          e["message"].get<std::string>().rfind("Running component", 0) == 0)
        ++started;
    }
    CHECK(ran == 1);
    CHECK(started == 1);
  }
  CHECK(workers_used.size() == static_cast<std::size_t>(workers));  // the work was shared
}

void cancel_running_job(const QueueStore& store) {
  const std::string id = submit(store, component("echo started; sleep 60"));
  CliProcess worker({"worker", "--store", store.url, "--lease", "3"});
  const json running = wait_for_job(store, id, [](const json& j) {
    return j["status"] == "processing" && j.value("events_stored", 0) > 0;
  });
  REQUIRE(running["status"] == "processing");
  // Wait for the component's own output so the container is surely running.
  for (int i = 0; i < 100; ++i) {
    bool seen = false;
    for (const auto& e : stored_events(store, id)) seen = seen || e["message"] == "started";
    if (seen) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto cancel = run_cli({"cancel", id.substr(0, 13), "--store", store.url});
  CHECK(cancel.exit_code == 0);
  CHECK_THAT(cancel.out, Catch::Contains("terminating"));
  const json after = wait_for_job(store, id, is_final, std::chrono::seconds(30));
  CHECK(after["status"] == "terminated");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(15));  // not the 60 s sleep
  CHECK(containers_of(id) == 0);
  worker.signal(SIGTERM);
  CHECK(worker.wait(std::chrono::seconds(30)) == 0);

  // A waiting job is cancelled at once and never runs.
  const std::string queued = submit(store, component("echo never"));
  auto c2 = run_cli({"cancel", queued, "--store", store.url});
  CHECK_THAT(c2.out, Catch::Contains("cancelled"));
  CHECK(job(store, queued)["status"] == "cancelled");
}

void killed_worker_job_is_taken_over(const QueueStore& store) {
  const std::string id = submit(
      store, component("for i in 1 2 3 4 5 6 7 8 9 10; do echo \"tick $i\"; sleep 0.5; done"));
  auto first = std::make_unique<CliProcess>(
      std::vector<std::string>{"worker", "--store", store.url, "--lease", "2", "--id", "doomed"});
  // Let it run a little, then kill the worker outright: no cleanup, lease left to expire.
  bool ticking = false;
  for (int i = 0; i < 200 && !ticking; ++i) {
    for (const auto& e : stored_events(store, id)) ticking = ticking || e["message"] == "tick 2";
    if (!ticking) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(ticking);
  first->signal(SIGKILL);
  first->wait(std::chrono::seconds(10));
  CHECK(containers_of(id) == 1);  // the component keeps running without its worker
  CliProcess second({"worker", "--store", store.url, "--lease", "2", "--id", "rescuer"});
  const json done = wait_for_job(store, id, is_final, std::chrono::seconds(60));
  CHECK(done["status"] == "success");
  CHECK(done["container_exit_code"] == 0);
  CHECK(done["attempts"] == 2);
  CHECK(done["worker_id"] == "rescuer");
  CHECK(containers_of(id) == 0);
  bool taken_over = false, last_tick = false;
  std::set<std::string> event_ids;
  const auto events = stored_events(store, id);
  for (const auto& e : events) {
    taken_over = taken_over || e["message"].get<std::string>().rfind("Taking over job", 0) == 0;
    last_tick = last_tick || e["message"] == "tick 10";
    event_ids.insert(e["id"].get<std::string>());
  }
  CHECK(taken_over);
  CHECK(last_tick);
  CHECK(event_ids.size() == events.size());  // sequence numbers continued: ids stay unique
  second.signal(SIGTERM);
  CHECK(second.wait(std::chrono::seconds(30)) == 0);
}

// A job whose worker dies on every claim (here: each worker is killed with SIGKILL while it runs
// the job; a poison spec that crashes the worker does the same) is claimed 3 times, then ended
// as error by the next worker's housekeeping, with its container, and never claimed again.
void job_that_kills_its_workers_ends_after_3_attempts(const QueueStore& store) {
  const std::string id = submit(store, component("echo started; sleep 120"));
  const auto state_text = [](const json& j) { return j.dump().substr(0, 1500); };
  std::string history;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const std::string worker_id = "doomed-" + std::to_string(attempt);
    CliProcess worker({"worker", "--store", store.url, "--lease", "2", "--id", worker_id});
    // Generous: under load a claim waits for the previous lease (2 s) and the next poll.
    const json claimed = wait_for_job(
        store, id,
        [&](const json& j) {
          return j["status"] == "processing" && j.value("worker_id", "") == worker_id &&
                 j.value("attempts", 0) == attempt;
        },
        std::chrono::seconds(90));
    history += "attempt " + std::to_string(attempt) + ": " + state_text(claimed) + "\n";
    INFO(history << "worker " << worker_id << " said:\n" << worker.out() << worker.err());
    REQUIRE(claimed.value("worker_id", "") == worker_id);
    REQUIRE(claimed.value("attempts", 0) == attempt);
    // Killed while the component runs: its container outlives every worker.
    for (int i = 0; i < 600 && containers_of(id) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(containers_of(id) == 1);
    worker.signal(SIGKILL);
    worker.wait(std::chrono::seconds(10));
  }
  CliProcess survivor({"worker", "--store", store.url, "--lease", "2", "--id", "survivor"});
  const json done = wait_for_job(store, id, is_final, std::chrono::seconds(90));
  INFO(history << "final: " << state_text(done) << "\nsurvivor said:\n"
               << survivor.out() << survivor.err());
  CHECK(done["status"] == "error");
  CHECK(done["attempts"] == 3);
  CHECK(done["exit_code"] == 70);
  CHECK_THAT(done["message"].get<std::string>(), Catch::Contains("Gave up after 3 attempts"));
  CHECK(survivor.wait_for_output("removed its container", std::chrono::seconds(30)));
  CHECK(containers_of(id) == 0);
  survivor.signal(SIGTERM);
  CHECK(survivor.wait(std::chrono::seconds(30)) == 0);
  CHECK_THAT(survivor.out(), !Catch::Contains(id + " (test.worker, namespace"));  // never claimed
  CHECK(job(store, id)["status"] == "error");
}

// The load under which a line used to be cut in two: many jobs at once on a 2-core machine, each
// writing its lines the way a block-buffered program does, in 4 KiB blocks that end anywhere in a
// line (sed's output, replayed block by block with dd), and now and then pausing between two
// blocks, as a busy machine makes any writer do. Every stored line must be whole, in order, none
// missing.
void every_line_stays_whole_under_load(const QueueStore& store, int jobs, int concurrency,
                                       int lines) {
  const std::string file = component(
      "seq 1 " + std::to_string(lines) +
      " | sed s/^/line-/ >/tmp/lines; n=$(( ($(wc -c </tmp/lines) + 4095) / 4096 )); i=0; "
      "while [ $i -lt $n ]; do dd if=/tmp/lines bs=4096 skip=$i count=1 2>/dev/null; "
      "i=$((i+1)); if [ $((i % 16)) -eq 0 ]; then sleep 0.3; fi; done");
  std::vector<std::string> ids;
  for (int i = 0; i < jobs; ++i) ids.push_back(submit(store, file));
  CliProcess worker({"worker", "--store", store.url, "--concurrency", std::to_string(concurrency),
                     "--max-jobs", std::to_string(jobs)});
  REQUIRE(worker.wait(std::chrono::seconds(240)) == 0);
  for (const auto& id : ids) {
    const json state = job(store, id);
    INFO("job " << id << ": " << state.dump().substr(0, 2000));
    CHECK(state["status"] == "success");
    int expected = 1;
    int wrong = 0;
    std::string first_wrong;
    for (const auto& e : stored_events(store, id)) {
      if (e["source"] != "stdout") continue;
      const std::string message = e["message"];
      if (message == "line-" + std::to_string(expected)) {
        ++expected;
        continue;
      }
      if (++wrong == 1) first_wrong = "\"" + message + "\" where line-" + std::to_string(expected);
      // Carry on after a whole line further on (a cut line leaves two pieces).
      if (message.rfind("line-", 0) == 0 && message.size() > 5)
        expected = std::atoi(message.c_str() + 5) + 1;
    }
    INFO("first wrong event: " << first_wrong);
    CHECK(wrong == 0);
    CHECK(expected == lines + 1);
  }
}

}  // namespace

TEST_CASE("3 workers on PostgreSQL run 60 jobs, each exactly once", "[e2e][worker][postgres]") {
  auto store = QueueStore::postgres();
  many_workers_run_each_job_once(store, 3, 60);
}

TEST_CASE("2 workers on SQLite run 20 jobs, each exactly once", "[e2e][worker][sqlite]") {
  auto store = QueueStore::sqlite();
  many_workers_run_each_job_once(store, 2, 20);
}

TEST_CASE("cancel stops a running job on PostgreSQL", "[e2e][worker][postgres]") {
  auto store = QueueStore::postgres();
  cancel_running_job(store);
}

TEST_CASE("cancel stops a running job on SQLite", "[e2e][worker][sqlite]") {
  auto store = QueueStore::sqlite();
  cancel_running_job(store);
}

TEST_CASE("a job of a worker killed with SIGKILL is taken over on PostgreSQL",
          "[e2e][worker][postgres]") {
  auto store = QueueStore::postgres();
  killed_worker_job_is_taken_over(store);
}

TEST_CASE("a job of a worker killed with SIGKILL is taken over on SQLite",
          "[e2e][worker][sqlite]") {
  auto store = QueueStore::sqlite();
  killed_worker_job_is_taken_over(store);
}

TEST_CASE("a job whose workers keep dying ends as error after 3 attempts on SQLite",
          "[e2e][worker][sqlite]") {
  auto store = QueueStore::sqlite();
  job_that_kills_its_workers_ends_after_3_attempts(store);
}

TEST_CASE("a job whose workers keep dying ends as error after 3 attempts on PostgreSQL",
          "[e2e][worker][postgres]") {
  auto store = QueueStore::postgres();
  job_that_kills_its_workers_ends_after_3_attempts(store);
}

TEST_CASE("SIGTERM lets running jobs finish, or hands them back after the drain timeout",
          "[e2e][worker][sqlite]") {
  auto store = QueueStore::sqlite();
  const std::string finishing = submit(store, component("sleep 1; echo finished"));
  {
    CliProcess worker({"worker", "--store", store.url});
    wait_for_job(store, finishing, [](const json& j) { return j["status"] == "processing"; });
    worker.signal(SIGTERM);
    CHECK(worker.wait(std::chrono::seconds(60)) == 0);
    CHECK_THAT(worker.out(), Catch::Contains("draining"));
  }
  CHECK(job(store, finishing)["status"] == "success");

  const std::string long_one = submit(store, component("echo begun; sleep 60"));
  {
    CliProcess worker({"worker", "--store", store.url, "--drain-timeout", "1"});
    wait_for_job(store, long_one, [](const json& j) {
      return j["status"] == "processing" && j.value("events_stored", 0) > 0;
    });
    worker.signal(SIGTERM);
    CHECK(worker.wait(std::chrono::seconds(60)) == 0);
    CHECK_THAT(worker.out(), Catch::Contains("handed back"));
  }
  const json back = job(store, long_one);
  CHECK(back["status"] == "waiting");  // another worker will run it
  CHECK(containers_of(long_one) == 0);
  run_cli({"cancel", long_one, "--store", store.url});
}

TEST_CASE("submit encrypts plain secrets and refuses them without a key",
          "[e2e][worker][secrets]") {
  auto store = QueueStore::sqlite();
  const std::string secret = unique_name("plain-");
  const std::string file =
      component("echo \"pw=$PW\"", json{{"env", {{"#PW", secret}}}, {"namespace", "team.a"}});
  const TempDir no_home("runner-nohome-");
  auto refused =
      run_cli({"submit", file, "--store", store.url}, {{"RUNNER_HOME", no_home.path.string()}});
  CHECK(refused.exit_code == 65);
  CHECK_THAT(refused.err, Catch::Contains("$.env.#PW: a plain secret cannot be queued"));
  CHECK_THAT(refused.err, !Catch::Contains(secret));

  const std::string key_file = (no_home.path / "secret.key").string();
  REQUIRE(run_cli({"keygen", "--key-file", key_file}).exit_code == 0);
  auto ok =
      run_cli({"submit", file, "--store", store.url, "--key-file", key_file, "--priority", "5"});
  REQUIRE(ok.exit_code == 0);
  const std::string id = ok.out.substr(0, 36);
  for (const auto& entry : std::filesystem::directory_iterator(store.dir->path))
    CHECK(runner_test::read_file(entry.path()).find(secret) == std::string::npos);
  const json queued = job(store, id);
  CHECK(queued["status"] == "waiting");
  CHECK(queued["priority"] == 5);
  CHECK(queued["namespace"] == "team.a");
  CliProcess worker({"worker", "--store", store.url, "--key-file", key_file, "--max-jobs", "1"});
  CHECK(worker.wait(std::chrono::seconds(60)) == 0);
  CHECK(job(store, id)["status"] == "success");
  bool hidden = false;
  for (const auto& e : stored_events(store, id)) hidden = hidden || e["message"] == "pw=[hidden]";
  CHECK(hidden);
}

TEST_CASE("60 jobs, 48 at once, on SQLite: every line of every job is stored whole",
          "[e2e][worker][sqlite][lines]") {
  auto store = QueueStore::sqlite();
  every_line_stays_whole_under_load(store, 60, 48, 20000);
}

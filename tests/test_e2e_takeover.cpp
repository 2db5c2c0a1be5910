// End-to-end: what docs/worker.md promises when a worker dies or is stopped twice, with real
// `runner worker` processes on the real engine and an SQLite queue: a job whose container
// exited while no worker was attached ends with that container's exit code; a job whose
// container is not on the new worker's engine (it ran on another machine: here it is gone from
// this engine, which is what the new worker sees) fails saying the outcome is unknown; a second
// SIGTERM during the drain hands the running job back at once instead of after the drain
// timeout.
#include "cli_process.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::unique_name;

namespace {

struct Queue {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / unique_name("runner-takeover-");
  std::string url;
  // TMPDIR for the workers: the working folder a killed worker leaves goes when the test ends.
  std::map<std::string, std::string> env;
  Queue() {
    std::filesystem::create_directories(dir / "tmp");
    url = "sqlite:" + (dir / "queue.db").string();
    env = {{"TMPDIR", (dir / "tmp").string()}};
  }
  ~Queue() { std::filesystem::remove_all(dir); }

  std::string submit(const std::string& script, const json& extra = json::object()) const {
    json doc = {{"id", "test.takeover"},
                {"image", "runner-busybox:latest"},
                {"command", {"sh", "-c", script}}};
    doc.update(extra);
    const std::string file = temp_file(doc.dump());
    const auto r = run_cli({"submit", file, "--store", url});
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, 36);
  }
  json job(const std::string& id) const {
    const auto r = run_cli({"show", id, "--store", url, "--json"});
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
  std::vector<json> events(const std::string& id) const {
    std::vector<json> out;
    std::istringstream in(run_cli({"logs", id, "--store", url, "--json"}).out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }
  bool has_event(const std::string& id, const std::function<bool(const std::string&)>& pred) const {
    for (const auto& e : events(id))
      if (pred(e["message"].get<std::string>())) return true;
    return false;
  }
};

bool eventually(const std::function<bool()>& pred, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

std::vector<runner::docker::ContainerSummary> containers_of(const std::string& job_id) {
  return runner_test::engine_client().list_containers({"io.runner.job-id=" + job_id});
}

// Starts a worker on `queue`, waits until the job printed `line`, then kills the worker outright
// (SIGKILL: no cleanup, the lease left to expire).
void kill_worker_after(const Queue& queue, const std::string& id, const std::string& line) {
  CliProcess doomed({"worker", "--store", queue.url, "--lease", "2", "--id", "doomed"}, queue.env);
  REQUIRE(eventually([&] { return queue.has_event(id, [&](auto& m) { return m == line; }); },
                     std::chrono::seconds(60)));
  doomed.signal(SIGKILL);
  doomed.wait(std::chrono::seconds(10));
}

}  // namespace

TEST_CASE("a dead worker's job whose container exited meanwhile ends with its exit code",
          "[e2e][worker][takeover]") {
  Queue queue;
  const std::string id = queue.submit("echo tick; sleep 1; exit 3");
  kill_worker_after(queue, id, "tick");
  // The container finishes on its own while no worker is attached.
  REQUIRE(eventually(
      [&] {
        const auto found = containers_of(id);
        return found.size() == 1 && found[0].state == "exited";
      },
      std::chrono::seconds(30)));
  const auto rescuer = run_cli(
      {"worker", "--store", queue.url, "--lease", "2", "--id", "rescuer", "--max-jobs", "1"},
      queue.env);
  CHECK(rescuer.exit_code == 0);
  const json done = queue.job(id);
  CHECK(done["status"] == "error");
  CHECK(done["error_type"] == "application");
  CHECK(done["container_exit_code"] == 3);
  CHECK(done["exit_code"] == 2);
  CHECK(done["attempts"] == 2);
  CHECK(done["worker_id"] == "rescuer");
  CHECK(queue.has_event(id, [](const std::string& m) {
    return m.rfind("Taking over job", 0) == 0 &&
           m.find(
               "exited) after its worker stopped: it has already exited, only its exit code "
               "is known") != std::string::npos;
  }));
  CHECK(containers_of(id).empty());  // the rescuer removed it
}

TEST_CASE("a dead worker's job whose container is not on this engine fails as unknown",
          "[e2e][worker][takeover]") {
  Queue queue;
  const std::string id = queue.submit("echo tick; sleep 60");
  kill_worker_after(queue, id, "tick");
  // The container ran on the dead worker's engine; the rescuer's engine has none for the job.
  const auto found = containers_of(id);
  REQUIRE(found.size() == 1);
  const std::string container = found[0].id;
  runner_test::engine_client().remove_container(container);
  const auto rescuer = run_cli(
      {"worker", "--store", queue.url, "--lease", "2", "--id", "rescuer", "--max-jobs", "1"},
      queue.env);
  CHECK(rescuer.exit_code == 0);
  const json done = queue.job(id);
  CHECK(done["status"] == "error");
  CHECK(done["error_type"] == "internal");
  CHECK(done["exit_code"] == 70);
  CHECK(done["attempts"] == 2);
  CHECK_THAT(done["message"].get<std::string>(),
             Catch::Contains("The worker that ran this job before (attempt 1) stopped") &&
                 Catch::Contains("container " + container.substr(0, 12) +
                                 " is not on the engine of worker rescuer") &&
                 Catch::Contains("whether the component finished is unknown"));
  CHECK(containers_of(id).empty());
}

TEST_CASE("a second SIGTERM during the drain hands the running job back at once",
          "[e2e][worker][drain]") {
  Queue queue;
  const std::string id = queue.submit("echo begun; sleep 60");
  // The default drain timeout (25 s) would let the job run on; the second signal must not wait.
  CliProcess worker({"worker", "--store", queue.url, "--id", "twice"}, queue.env);
  REQUIRE(eventually([&] { return queue.has_event(id, [](auto& m) { return m == "begun"; }); },
                     std::chrono::seconds(60)));
  worker.signal(SIGTERM);
  REQUIRE(eventually([&] { return worker.out().find("draining") != std::string::npos; },
                     std::chrono::seconds(10)));
  CHECK(queue.job(id)["status"] == "processing");  // the first signal lets it run
  const auto second = std::chrono::steady_clock::now();
  worker.signal(SIGTERM);
  CHECK(worker.wait(std::chrono::seconds(60)) == 0);
  CHECK(std::chrono::steady_clock::now() - second < std::chrono::seconds(20));
  CHECK_THAT(worker.out(), Catch::Contains("SIGTERM again: handing the running jobs back"));
  const json back = queue.job(id);
  CHECK(back["status"] == "waiting");       // another worker will run it
  CHECK_FALSE(back.contains("worker_id"));  // held by no worker
  CHECK(containers_of(id).empty());
}

TEST_CASE("a take-over of a single-stage job saves its state and reads its usage like a run",
          "[e2e][worker][takeover][state]") {
  Queue queue;
  const std::string config = unique_name("cfg-");
  const json extra = {{"config_id", config}};
  const std::string id = queue.submit(
      "echo tick; sleep 1; echo '{\"cursor\": 7}' > /data/out/state.json; "
      "echo '[{\"metric\": \"rows\", \"value\": 3}]' > /data/out/usage.json",
      extra);
  kill_worker_after(queue, id, "tick");
  REQUIRE(eventually(
      [&] {
        const auto found = containers_of(id);
        return found.size() == 1 && found[0].state == "exited";
      },
      std::chrono::seconds(30)));
  const auto rescuer = run_cli(
      {"worker", "--store", queue.url, "--lease", "2", "--id", "rescuer", "--max-jobs", "1"},
      queue.env);
  CHECK(rescuer.exit_code == 0);
  const json done = queue.job(id);
  CHECK(done["status"] == "success");
  CHECK(done["worker_id"] == "rescuer");
  const auto shown = run_cli({"show", id, "--store", queue.url});
  CHECK_THAT(shown.out, Catch::Contains(R"(Usage       [{"metric":"rows","value":3}])"));
  CHECK_THAT(shown.out, Catch::Contains("State       saved"));
  const std::string file = temp_file(json{
      {"id", "test.takeover"},
      {"image", "runner-busybox:latest"},
      {"config_id", config}}.dump());
  const auto state = run_cli({"state", "show", file, "--store", queue.url});
  CHECK(state.exit_code == 0);
  CHECK_THAT(state.out, Catch::Contains("\"cursor\": 7") || Catch::Contains("\"cursor\":7"));
  CHECK(containers_of(id).empty());
}

TEST_CASE("a take-over in the middle of a chain fails honestly and saves no state",
          "[e2e][worker][takeover][processors]") {
  Queue queue;
  const std::string config = unique_name("cfg-");
  const std::string id =
      queue.submit("echo tick; sleep 1; echo '{\"cursor\": 1}' > /data/out/state.json",
                   {{"config_id", config},
                    {"processors",
                     {{"after",
                       {{{"id", "test.after"},
                         {"image", "runner-busybox:latest"},
                         {"command", {"sh", "-c", "echo after-ran"}}}}}}}});
  kill_worker_after(queue, id, "tick");
  REQUIRE(eventually(
      [&] {
        const auto found = containers_of(id);
        return found.size() == 1 && found[0].state == "exited";
      },
      std::chrono::seconds(30)));
  const auto rescuer = run_cli(
      {"worker", "--store", queue.url, "--lease", "2", "--id", "rescuer", "--max-jobs", "1"},
      queue.env);
  CHECK(rescuer.exit_code == 0);
  const json done = queue.job(id);
  CHECK(done["status"] == "error");
  CHECK(done["error_type"] == "application");
  CHECK_THAT(done["message"].get<std::string>(),
             Catch::Contains("taken over from a stopped worker while one of its stages ran") &&
                 Catch::Contains("run the job again"));
  CHECK_FALSE(queue.has_event(id, [](const std::string& m) { return m == "after-ran"; }));
  const auto shown = run_cli({"show", id, "--store", queue.url});
  CHECK_THAT(shown.out, Catch::Contains("State       unchanged"));
  CHECK(containers_of(id).empty());
}

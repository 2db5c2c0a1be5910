// Orphan collection (runner/container_gc.hpp): which working folders and containers `runner gc`
// takes and which it leaves, and `gc --all`.
//
// Working folders: real folders in a TMPDIR of the test's own, owned by a live process, a dead
// one, none (kept with --keep-data), or not runner's at all. Containers: created (never started)
// on the real engine with the labels runner puts on its own, seen through a proxy that lists only
// this test's containers, so that neither collect_orphans nor `runner gc --all` can touch another
// test's containers on the shared engine.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"
#include "engine_proxy.hpp"
#include "exporter_test_support.hpp"
#include "runner/container_gc.hpp"
#include "runner/job_runner.hpp"
#include "runner/job_workspace.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace fs = std::filesystem;

namespace {

std::string unique(const std::string& prefix) {
  std::random_device rd;
  return prefix + std::to_string(rd() % 1000000000);
}

// The pid of a process that has exited and been reaped.
long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::string this_host() {
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  return host.data();
}

void make_folder(const fs::path& path, const std::optional<std::string>& owner) {
  fs::create_directories(path / "data");
  std::ofstream(path / "data" / "config.json") << R"({"parameters":{"#password":"x"}})";
  if (owner) std::ofstream(path / runner::kWorkspaceOwnerFile) << *owner;
}

}  // namespace

TEST_CASE("gc takes the working folders of dead runners only", "[runner][gc]") {
  const fs::path tmp = fs::temp_directory_path() / unique("runner-gc-unit-");
  fs::create_directories(tmp);
  const runner_test::ScopedEnv env("TMPDIR", tmp.string());
  const long dead = dead_pid();
  make_folder(tmp / "runner-dead-aaaaaa", std::to_string(dead) + "\n");
  make_folder(tmp / "runner-alive-bbbbbb", std::to_string(::getpid()) + "\n");
  make_folder(tmp / "runner-kept-cccccc", std::nullopt);  // --keep-data removed its owner file
  make_folder(tmp / "runner-garbage-dddddd", std::string("not a pid\n"));
  make_folder(tmp / "other-eeeeee", std::to_string(dead) + "\n");  // not runner's
  std::ofstream(tmp / "runner-file-ffffff") << std::to_string(dead);

  const auto listed = runner::collect_orphan_workspaces(true);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].path == tmp / "runner-dead-aaaaaa");
  CHECK(listed[0].owner_pid == dead);
  CHECK_FALSE(listed[0].removed);
  CHECK(fs::exists(tmp / "runner-dead-aaaaaa"));  // a dry run removes nothing

  const auto removed = runner::collect_orphan_workspaces(false);
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].removed);
  CHECK_FALSE(fs::exists(tmp / "runner-dead-aaaaaa"));
  for (const char* kept : {"runner-alive-bbbbbb", "runner-kept-cccccc", "runner-garbage-dddddd",
                           "other-eeeeee", "runner-file-ffffff"}) {
    INFO(kept);
    CHECK(fs::exists(tmp / kept));
  }
  CHECK(runner::collect_orphan_workspaces(false).empty());
  fs::remove_all(tmp);
}

namespace {

// Containers of one test, created with runner's labels and removed at the end whatever happens.
class LabelledContainers {
 public:
  LabelledContainers() : scope_(unique("test.gc-unit-")) {}
  ~LabelledContainers() {
    auto client = runner_test::engine_client();
    for (const auto& c : client.list_containers({label()})) client.remove_container(c.id);
  }
  LabelledContainers(const LabelledContainers&) = delete;
  LabelledContainers& operator=(const LabelledContainers&) = delete;

  std::string label() const { return std::string(runner::kLabelComponentId) + "=" + scope_; }
  // A created (never started) container as runner `pid` on `host` would have left it.
  std::string create(const std::string& job, const std::string& host, long pid) {
    runner::docker::ContainerConfig cfg;
    cfg.image = "runner-busybox:latest";
    cfg.cmd = std::vector<std::string>{"true"};
    cfg.labels = {{runner::kLabelManaged, "true"},
                  {runner::kLabelComponentId, scope_},
                  {runner::kLabelJobId, job},
                  {runner::kLabelHost, host},
                  {runner::kLabelPid, std::to_string(pid)}};
    return runner_test::engine_client().create_container(cfg, "runner-" + job);
  }
  std::size_t count() const {
    return runner_test::engine_client().list_containers({label()}).size();
  }

 private:
  std::string scope_;
};

const runner::GcEntry* entry_of(const std::vector<runner::GcEntry>& entries,
                                const std::string& job) {
  for (const auto& e : entries)
    if (e.job_id == job) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("gc removes containers of dead runners on this host, and --all every one", "[e2e][gc]") {
  LabelledContainers containers;
  const std::string dead_job = unique("dead-");
  const std::string live_job = unique("live-");
  const std::string remote_job = unique("remote-");
  const std::string dead_id = containers.create(dead_job, this_host(), dead_pid());
  containers.create(live_job, this_host(), ::getpid());
  containers.create(remote_job, "elsewhere.example", dead_pid());
  REQUIRE(containers.count() == 3);

  runner_test::EngineProxy engine(runner_test::EngineProxy::Listen::unix_socket,
                                  containers.label());
  runner::docker::EngineClient client(runner::docker::EngineEndpoint::parse(engine.docker_host()));
  const auto planned = runner::collect_orphans(client, false, true);
  REQUIRE(planned.size() == 3);  // only this test's containers, whatever else the engine runs
  const auto* dead = entry_of(planned, dead_job);
  const auto* live = entry_of(planned, live_job);
  const auto* remote = entry_of(planned, remote_job);
  REQUIRE((dead && live && remote));
  CHECK(dead->orphan);
  CHECK(dead->id == dead_id);
  CHECK(dead->name == "runner-" + dead_job);
  CHECK(dead->state == "created");
  CHECK_THAT(dead->reason, Catch::Contains(") is gone"));
  CHECK_FALSE(live->orphan);
  CHECK(live->reason == "its runner (pid " + std::to_string(::getpid()) + ") is still running");
  CHECK_FALSE(remote->orphan);
  CHECK_THAT(remote->reason, Catch::Contains("started on another host (elsewhere.example)"));
  for (const auto& e : planned) CHECK_FALSE(e.removed);
  CHECK(containers.count() == 3);  // dry run

  const auto done = runner::collect_orphans(client, false, false);
  REQUIRE(done.size() == 3);
  CHECK(entry_of(done, dead_job)->removed);
  CHECK_FALSE(entry_of(done, live_job)->removed);
  CHECK_FALSE(entry_of(done, remote_job)->removed);
  CHECK(containers.count() == 2);

  // --all: every runner container, also a live runner's and another host's. (A TMPDIR of its
  // own: the working folders gc looks at are not this test's subject.)
  const fs::path tmp = fs::temp_directory_path() / unique("runner-gc-all-");
  fs::create_directories(tmp);
  const std::map<std::string, std::string> env = {{"TMPDIR", tmp.string()}};
  const auto dry = runner_test::run_cli(
      {"gc", "--all", "--dry-run", "--docker-host", engine.docker_host()}, env);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would remove runner-" + live_job) &&
                          Catch::Contains("would remove runner-" + remote_job) &&
                          Catch::Contains("2 runner container(s) found, 0 removed"));
  CHECK(containers.count() == 2);
  const auto all =
      runner_test::run_cli({"gc", "--all", "--docker-host", engine.docker_host()}, env);
  CHECK(all.exit_code == 0);
  CHECK_THAT(all.out,
             Catch::Contains("removed runner-" + live_job + " (created, job " + live_job) &&
                 Catch::Contains("removed runner-" + remote_job) && Catch::Contains("--all") &&
                 Catch::Contains("2 runner container(s) found, 2 removed"));
  CHECK(containers.count() == 0);
  fs::remove_all(tmp);
}

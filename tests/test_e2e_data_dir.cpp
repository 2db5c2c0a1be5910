// End-to-end: any container user and the user's own folder (issue 13), the real `runner` binary
// against the real engine. A non-root image (runner-busybox-user: USER 1000:1000, from
// scripts/build-images.sh) and a named `user` read /data and write /data/out and /tmp, in the
// private folder and with --data-dir, the private folder staying 0700; the outputs in a
// --data-dir end up owned by the folder's owner; a hand-written config.json is used and kept (and
// refused with `parameters` in the component); stale outputs are reported or cleared; `storage`
// reaches config.json as given.
#include "cli_process.hpp"
#include "engine_proxy.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;

namespace {

constexpr const char* kUserImage = "runner-busybox-user:latest";
constexpr const char* kImage = "runner-busybox:latest";

struct TempDir : runner_test::TempDir {
  TempDir() : runner_test::TempDir("runner-e2e-ddir-") {}
  std::size_t entries() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

std::string component(const std::string& image, const std::string& script,
                      const json& extra = json::object()) {
  json doc = {{"id", "test.e2e-ddir"}, {"image", image}, {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

// What each run of these tests checks: who it ran as, that it read config.json and wrote out/
// and /tmp.
const std::string kWriter =
    "id -u; grep -q '\"parameters\"' /data/config.json && echo config-read; "
    "echo a,b > /data/out/tables/result.csv && echo out-written; "
    "echo f > /data/out/files/f.txt; echo t > /tmp/scratch && echo tmp-written; "
    "mkdir /data/out/files/sub && echo n > /data/out/files/sub/nested.txt";

struct Run {
  int exit_code;
  std::string out;
  std::string err;
  std::vector<json> events;
};

Run run_job(const std::string& file, std::vector<std::string> extra,
            const std::map<std::string, std::string>& env = {}) {
  const std::string events = temp_file("", ".jsonl");
  std::vector<std::string> args = {"run", file, "--store", "none", "--events", events};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_cli(args, env);
  Run run{r.exit_code, r.out, r.err, runner_test::read_json_lines(events)};
  fs::remove(events);
  return run;
}

std::string messages(const Run& run, const std::string& source) {
  std::string text;
  for (const auto& e : run.events)
    if (e["kind"] == "event" && e["source"] == source)
      text += e["message"].get<std::string>() + "\n";
  return text;
}

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

}  // namespace

TEST_CASE("a non-root image and a named user write their outputs in the private folder",
          "[e2e][data-dir]") {
  TempDir tmp;  // TMPDIR: where the private folder is made
  for (const auto& [image, extra, uid] :
       {std::tuple{std::string(kUserImage), json::object(), std::string("1000")},
        std::tuple{std::string(kImage), json{{"user", "nobody"}}, std::string("65534")},
        std::tuple{std::string(kImage), json{{"user", "4321:4321"}}, std::string("4321")}}) {
    INFO(image << " " << extra.dump());
    const Run run =
        run_job(component(image, kWriter + "; ls -ld /data/out/tables; sleep 0.2", extra),
                {"--keep-data"}, {{"TMPDIR", tmp.path.string()}});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 0);
    const std::string out = messages(run, "stdout");
    CHECK_THAT(out, Catch::StartsWith(uid + "\n"));
    CHECK_THAT(out, Catch::Contains("config-read"));
    CHECK_THAT(out, Catch::Contains("out-written"));
    CHECK_THAT(out, Catch::Contains("tmp-written"));
    // The kept private folder: its root still 0700 and runner's, the outputs there.
    fs::path root;
    for (const auto& e : fs::directory_iterator(tmp.path)) root = e.path();
    REQUIRE(!root.empty());
    CHECK((stat_of(root).st_mode & 07777) == 0700);
    CHECK(stat_of(root).st_uid == ::geteuid());
    CHECK(runner_test::read_file(root / "data/out/tables/result.csv") == "a,b\n");
    fs::remove_all(root);
  }
}

TEST_CASE("with --data-dir a non-root container writes outputs that end up the folder owner's",
          "[e2e][data-dir]") {
  REQUIRE(::geteuid() == 0);
  for (const auto& [image, extra] : {std::pair{std::string(kUserImage), json::object()},
                                     std::pair{std::string(kImage), json{{"user", "nobody"}}}}) {
    INFO(image << " " << extra.dump());
    TempDir data;
    fs::create_directories(data.path / "in/tables");
    std::ofstream(data.path / "in/tables/input.csv") << "id\n1\n";
    // The folder belongs to "the user who ran runner" (not root, not the container's user).
    REQUIRE(::chown(data.path.c_str(), 2222, 2222) == 0);
    const Run run = run_job(component(image, kWriter + "; cat /data/in/tables/input.csv", extra),
                            {"--data-dir", data.path.string()}, {{"SUDO_UID", ""}});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 0);
    const std::string out = messages(run, "stdout");
    CHECK_THAT(out, Catch::Contains("config-read"));
    CHECK_THAT(out, Catch::Contains("out-written"));
    CHECK_THAT(out, Catch::Contains("id\n1\n"));
    CHECK(runner_test::read_file(data.path / "out/tables/result.csv") == "a,b\n");
    for (const char* file : {"out/tables/result.csv", "out/files/f.txt", "out/files/sub",
                             "out/files/sub/nested.txt", "out", "out/tables"}) {
      INFO(file);
      CHECK(stat_of(data.path / file).st_uid == 2222);
      CHECK(stat_of(data.path / file).st_gid == 2222);
    }
    CHECK((stat_of(data.path / "out/tables").st_mode & 0777) != 0777);  // opened only for the run
    CHECK_FALSE(fs::exists(data.path / "config.json"));                 // runner's own, removed
  }
}

TEST_CASE("a hand-written config.json in --data-dir is the configuration and is kept",
          "[e2e][data-dir]") {
  TempDir data;
  const std::string hand = R"({"parameters": {"greeting": "from the file", "#token": "tok-93e1"},
  "storage": {"input": {"tables": []}}}
)";
  std::ofstream(data.path / "config.json") << hand;
  const std::string script = "cat /data/config.json; echo; echo \"$(cat /data/config.json)\" >&2";
  const Run run = run_job(component(kUserImage, script), {"--data-dir", data.path.string()});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(messages(run, "runner"),
             Catch::Contains("Using " + (fs::absolute(data.path) / "config.json").string() +
                             " as the configuration"));
  const std::string out = messages(run, "stdout");
  CHECK_THAT(out, Catch::Contains("from the file"));
  CHECK_THAT(out, Catch::Contains("[hidden]"));  // its '#' value is a secret like any other
  CHECK_THAT(run.out + run.err + out, !Catch::Contains("tok-93e1"));
  CHECK(runner_test::read_file(data.path / "config.json") == hand);

  // With `parameters` in the component too: exit 65 naming the field, the file untouched.
  const Run both = run_job(component(kUserImage, script, {{"parameters", {{"x", 1}}}}),
                           {"--data-dir", data.path.string()});
  CHECK(both.exit_code == 65);
  CHECK_THAT(both.out + both.err, Catch::Contains("$.parameters: given, but --data-dir"));
  CHECK(runner_test::read_file(data.path / "config.json") == hand);
}

TEST_CASE("outputs an earlier run left in --data-dir are reported, or cleared with --clean-out",
          "[e2e][data-dir]") {
  TempDir data;
  const std::string file =
      component(kImage, "ls /data/out/tables", {{"parameters", json::object()}});
  fs::create_directories(data.path / "out/tables");
  std::ofstream(data.path / "out/tables/old.csv") << "stale\n";
  const Run warned = run_job(file, {"--data-dir", data.path.string()});
  CHECK(warned.exit_code == 0);
  CHECK_THAT(messages(warned, "runner"),
             Catch::Contains("already holds 1 file(s) from an earlier run (such as "
                             "out/tables/old.csv)"));
  CHECK_THAT(messages(warned, "stdout"), Catch::Contains("old.csv"));
  const Run cleaned = run_job(file, {"--data-dir", data.path.string(), "--clean-out"});
  CHECK(cleaned.exit_code == 0);
  CHECK_THAT(messages(cleaned, "runner"), Catch::Contains("--clean-out: removed"));
  CHECK_THAT(messages(cleaned, "stdout"), !Catch::Contains("old.csv"));
  CHECK_FALSE(fs::exists(data.path / "out/tables/old.csv"));
  CHECK(fs::is_directory(data.path / "out/tables"));
}

TEST_CASE("storage in component.json reaches config.json as given", "[e2e][data-dir]") {
  const json storage = {
      {"input", {{"tables", {{{"source", "in.c-main.orders"}, {"destination", "orders.csv"}}}}}},
      {"output", {{"tables", json::array()}}}};
  const Run run = run_job(component(kImage, "cat /data/config.json", {{"storage", storage}}), {});
  CHECK(run.exit_code == 0);
  std::string text = messages(run, "stdout");
  const json config = json::parse(text);
  CHECK(config["storage"] == storage);
  // A wrong type is a config error naming the field.
  const Run wrong = run_job(component(kImage, "true", {{"storage", "nope"}}), {});
  CHECK(wrong.exit_code == 65);
  CHECK_THAT(wrong.err, Catch::Contains("$.storage: expected an object"));
}

TEST_CASE("with --data-dir outputs go back to the folder owner when the engine fails mid-run",
          "[e2e][data-dir][engine]") {
  REQUIRE(::geteuid() == 0);
  TempDir data;
  REQUIRE(::chown(data.path.c_str(), 2222, 2222) == 0);
  // The component writes its outputs and a usage file, then waits; the engine then "goes away"
  // for runner only (the relay is cut: the shared engine is never stopped), so the run ends in
  // an engine error (exit 69), not in the container's exit.
  const std::string id = "test.e2e-ddir-gone-" + std::to_string(std::random_device{}() % 100000);
  const std::string file = temp_file(json{
      {"id", id},
      {"image", kUserImage},
      {"command",
       {"sh", "-c",
        "echo a,b > /data/out/tables/result.csv; mkdir /data/out/files/sub; "
        "echo n > /data/out/files/sub/n.txt; "
        "echo '[{\"metric\": \"rows\", \"value\": 2}]' > /data/out/usage.json; "
        "echo written; sleep 120"}}}.dump());
  const std::string events = temp_file("", ".jsonl");
  runner_test::EngineProxy relay;
  runner_test::CliProcess cli({"run", file, "--docker-host", relay.docker_host(), "--store", "none",
                               "--events", events, "--data-dir", data.path.string()},
                              {{"SUDO_UID", ""}});
  REQUIRE(cli.wait_for_output("written"));
  relay.cut();
  const int code = cli.wait(std::chrono::seconds(60));
  INFO(cli.out() << cli.err());
  CHECK(code == 69);
  auto engine = runner_test::engine_client();
  for (const auto& left : engine.list_containers({"io.runner.component-id=" + id}))
    engine.remove_container(left.id);
  for (const char* path : {"out", "out/tables", "out/tables/result.csv", "out/files/sub",
                           "out/files/sub/n.txt", "out/usage.json"}) {
    INFO(path);
    CHECK(stat_of(data.path / path).st_uid == 2222);
    CHECK(stat_of(data.path / path).st_gid == 2222);
  }
  CHECK((stat_of(data.path / "out/tables").st_mode & 0777) != 0777);  // its mode back
  CHECK_FALSE(fs::exists(data.path / "config.json"));  // runner's own, removed on this path too
  // The usage file is read after a failure too (Keboola's rule), an engine failure included.
  const auto lines = runner_test::read_json_lines(events);
  fs::remove(events);
  REQUIRE(!lines.empty());
  CHECK(lines.back()["kind"] == "result");
  CHECK(lines.back()["usage"] == json::parse(R"([{"metric": "rows", "value": 2}])"));
}

TEST_CASE("a named image user is mapped through the image's /etc/passwd to its uid",
          "[e2e][data-dir][accounts]") {
  REQUIRE(::geteuid() == 0);
  constexpr const char* kNamed = "runner-busybox-named:latest";  // USER app (1234:2345)
  const std::string probe =
      "id -u; id -g; stat -c '%u:%g %a' /data/out/tables /data/in/tables /tmp; " + kWriter;
  {
    // The private folder: given to the user's numbers, not opened to everyone.
    TempDir tmp;
    for (const auto& [extra, owner] :
         {std::pair{json::object(), std::string("1234:2345")},
          std::pair{json{{"user", "app:staff"}}, std::string("1234:3456")}}) {
      INFO(extra.dump());
      const Run run = run_job(component(kNamed, probe, extra), {"--keep-data"},
                              {{"TMPDIR", tmp.path.string()}});
      INFO(run.out << run.err);
      CHECK(run.exit_code == 0);
      const std::string out = messages(run, "stdout");
      CHECK_THAT(out, Catch::Contains("\n" + owner + " "));  // out/tables: the user's
      CHECK_THAT(out, Catch::Contains("out-written"));
      CHECK_THAT(out, Catch::Contains("tmp-written"));
      CHECK_THAT(out, !Catch::Contains(" 777\n"));
      CHECK_THAT(messages(run, "runner"), !Catch::Contains("is not mapped"));
      for (const auto& e : fs::directory_iterator(tmp.path)) fs::remove_all(e.path());
    }
  }
  {
    // --data-dir: out/ is the user's for the run, the outputs and the in/ folders runner made
    // are the folder owner's afterwards.
    TempDir data;
    REQUIRE(::chown(data.path.c_str(), 2222, 2222) == 0);
    const Run run =
        run_job(component(kNamed, probe), {"--data-dir", data.path.string()}, {{"SUDO_UID", ""}});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 0);
    CHECK_THAT(messages(run, "stdout"), Catch::Contains("\n1234:2345 "));  // out/tables, chowned
    for (const char* path : {"in", "in/tables", "in/files", "in/user", "out", "out/tables",
                             "out/tables/result.csv", "out/files/sub/nested.txt"}) {
      INFO(path);
      CHECK(stat_of(data.path / path).st_uid == 2222);
      CHECK(stat_of(data.path / path).st_gid == 2222);
    }
    CHECK((stat_of(data.path / "out/tables").st_mode & 0777) != 0777);
  }
  {
    // A name the image does not know: not mapped (a debug note says why); the engine then
    // refuses to start the container, as it would without runner.
    const Run run = run_job(component(kImage, "true", {{"user", "ghost"}}), {});
    CHECK(run.exit_code != 0);
    bool noted = false;
    for (const auto& e : run.events)
      if (e["kind"] == "event" && e["level"] == "debug" &&
          e["message"].get<std::string>().find(
              "user \"ghost\" is not mapped to a host uid (the image's /etc/passwd has no entry "
              "for \"ghost\")") != std::string::npos)
        noted = true;
    CHECK(noted);
  }
  // No container of the look-ups is left behind.
  CHECK(runner_test::engine_client()
            .list_containers({"io.runner.component-id=test.e2e-ddir"})
            .empty());
}

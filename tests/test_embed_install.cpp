// End-to-end: runner as a library. Installs this build (`cmake --install`) into a temporary
// prefix, builds examples/embed against it with find_package(runner) and Ninja, then runs the
// example on runner-busybox components: one that prints lines and succeeds, one that sleeps and
// is stopped by the example's watchdog thread (EventStopSource). Needs the Docker engine and the
// images of scripts/build-images.sh, like the other [e2e] tests.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Command {
  int exit_code;
  std::string output;  // stdout and stderr
};

// Runs a shell command line, collecting its output in a file (no pipes to drain).
Command run_command(const std::string& command_line) {
  const std::string log = runner_test::temp_file("", ".log");
  const int status = std::system((command_line + " >" + quoted(log) + " 2>&1 </dev/null").c_str());
  Command r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, runner_test::read_file(log)};
  fs::remove(log);
  return r;
}

// A temporary folder, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "runner-embed-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Installs the current build into dir/prefix; REQUIREs success.
fs::path install_runner(const TempDir& dir) {
  const fs::path prefix = dir.path / "prefix";
  const auto r = run_command(std::string(RUNNER_CMAKE) + " --install " + quoted(RUNNER_BUILD_DIR) +
                             " --prefix " + quoted(prefix.string()));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return prefix;
}

// Installs, then configures and builds examples/embed against the install; returns the binary.
fs::path build_example(const TempDir& dir) {
  const fs::path prefix = install_runner(dir);
  const fs::path build = dir.path / "embed-build";
  const std::string source = std::string(RUNNER_SOURCE_DIR) + "/examples/embed";
  auto r = run_command(
      std::string(RUNNER_CMAKE) + " -S " + quoted(source) + " -B " + quoted(build.string()) +
      " -G Ninja -DCMAKE_PREFIX_PATH=" + quoted(prefix.string()) +
      " -DCMAKE_CXX_COMPILER=" + quoted(RUNNER_CXX) + " -DCMAKE_EXPORT_COMPILE_COMMANDS=ON");
  INFO("configure: " << r.output);
  REQUIRE(r.exit_code == 0);
  // The embedder compiles with runner's include directory only: what runner's libraries use
  // inside (libpq, Boost, yaml-cpp, SQLite, CLI11) is linked privately.
  const std::string commands = runner_test::read_file((build / "compile_commands.json").string());
  INFO(commands);
  for (const char* leaked : {"postgresql", "BOOST", "boost", "yaml", "sqlite", "CLI11"})
    CHECK(commands.find(leaked) == std::string::npos);
  r = run_command(std::string(RUNNER_CMAKE) + " --build " + quoted(build.string()));
  INFO("build: " << r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path exe = build / "embed";
  REQUIRE(fs::exists(exe));
  return exe;
}

std::string component(const TempDir& dir, const std::string& script) {
  const fs::path file = dir.path / "component.json";
  const json doc = {{"id", "test.embed"}, {"image", kImage}, {"command", {"sh", "-c", script}}};
  std::ofstream(file) << doc.dump();
  return file.string();
}

struct PrintedEvent {
  unsigned long long sequence;
  std::string level;
  std::string source;
  std::string message;
};

struct ExampleRun {
  int exit_code;
  std::string output;
  std::vector<PrintedEvent> events;  // "event SEQ LEVEL SOURCE: MESSAGE" lines
  json result;                       // the "result {...}" line
  double seconds;
};

ExampleRun run_example(const fs::path& exe, const std::vector<std::string>& args) {
  // The engine the checks below ask (cli_process.hpp), named explicitly.
  std::string line =
      "env DOCKER_HOST=" + quoted(runner_test::engine_host()) + " " + quoted(exe.string());
  for (const auto& a : args) line += " " + quoted(a);
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_command(line);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  ExampleRun run{r.exit_code, r.output, {}, json(), took.count()};
  std::istringstream in(r.output);
  std::string text;
  while (std::getline(in, text)) {
    if (text.rfind("result ", 0) == 0) {
      run.result = json::parse(text.substr(7), nullptr, false);
    } else if (text.rfind("event ", 0) == 0) {
      std::istringstream fields(text.substr(6));
      PrintedEvent e;
      fields >> e.sequence >> e.level >> e.source;
      if (!e.source.empty() && e.source.back() == ':') e.source.pop_back();
      std::getline(fields, e.message);
      if (!e.message.empty() && e.message.front() == ' ') e.message.erase(0, 1);
      run.events.push_back(e);
    }
  }
  return run;
}

std::vector<std::string> messages_from(const ExampleRun& run, const std::string& source) {
  std::vector<std::string> out;
  for (const auto& e : run.events)
    if (e.source == source) out.push_back(e.message);
  return out;
}

std::size_t containers_of_job(const std::string& job_id) {
  return runner_test::engine_client().list_containers({"io.runner.job-id=" + job_id}).size();
}

}  // namespace

TEST_CASE("the install holds the libraries and headers and the CMake package and nothing else",
          "[e2e][embed]") {
  TempDir dir;
  const fs::path prefix = install_runner(dir);
  // lib/ or lib/<multiarch>/ (GNUInstallDirs), whichever this build was configured with.
  fs::path libdir = prefix / "lib";
  for (const auto& entry : fs::recursive_directory_iterator(prefix))
    if (entry.path().filename() == "librunner_core.a") libdir = entry.path().parent_path();
  const fs::path cmake_dir = libdir / "cmake" / "runner";
  for (const char* f : {"runnerConfig.cmake", "runnerConfigVersion.cmake", "runnerTargets.cmake"})
    CHECK(fs::exists(cmake_dir / f));
  for (const char* lib : {"core", "docker", "logging", "gelf", "secrets", "store", "shipper"})
    CHECK(fs::exists(libdir / (std::string("librunner_") + lib + ".a")));
  for (const char* header :
       {"runner/runner.hpp", "runner/job_runner.hpp", "runner/stop_request.hpp",
        "logging/callback_sink.hpp", "logging/event_log.hpp", "logging/gelf/server.hpp",
        "docker/engine_client.hpp", "secrets/config_cipher.hpp"})
    CHECK(fs::exists(prefix / "include" / header));
  CHECK(fs::exists(prefix / "bin" / "runner"));
  // Only headers, libraries, the package files and the CLI: no sources, tests or benchmarks.
  for (const auto& entry : fs::recursive_directory_iterator(prefix)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), prefix).string();
    const std::string ext = entry.path().extension().string();
    INFO(rel);
    CHECK((ext == ".hpp" || ext == ".a" || ext == ".cmake" || rel == "bin/runner"));
    for (const auto& part : fs::relative(entry.path(), prefix)) {
      const std::string name = part.string();
      CHECK(name != "tests");
      CHECK(name != "bench");
      CHECK(name != "fuzz");
      CHECK(name.rfind("test_", 0) != 0);
      CHECK(name.rfind("bench_", 0) != 0);
      CHECK(name.rfind("fuzz_", 0) != 0);
    }
  }
  const std::string targets = runner_test::read_file((cmake_dir / "runnerTargets.cmake").string());
  CHECK(targets.find("add_library(runner::runner INTERFACE IMPORTED)") != std::string::npos);
  CHECK(targets.find("add_library(runner::core STATIC IMPORTED)") != std::string::npos);
  CHECK(targets.find(RUNNER_SOURCE_DIR) == std::string::npos);  // no path into the source tree
}

TEST_CASE("a worker built with find_package(runner) runs a job and gets its events and result",
          "[e2e][embed]") {
  TempDir dir;
  const fs::path exe = build_example(dir);
  const auto run = run_example(
      exe, {component(dir, "for i in 1 2 3; do echo \"line $i\"; sleep 0.2; done; exit 0")});
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(messages_from(run, "stdout") == std::vector<std::string>{"line 1", "line 2", "line 3"});
  for (const auto& e : run.events)
    if (e.source == "stdout") CHECK(e.level == "info");
  // Sequence numbers start at 1 and have no gaps.
  for (std::size_t i = 0; i < run.events.size(); ++i) CHECK(run.events[i].sequence == i + 1);
  REQUIRE(run.result.is_object());
  CHECK(run.result["kind"] == "result");
  CHECK(run.result["status"] == "success");
  CHECK(run.result["exit_code"] == 0);
  CHECK(run.result["container_exit_code"] == 0);
  CHECK(run.result["component_id"] == "test.embed");
  CHECK(containers_of_job(run.result["job_id"]) == 0);

  // A user error (exit 1) comes back the same way, with the CLI's exit code.
  const auto failed = run_example(exe, {component(dir, "echo 'bad input' >&2; exit 1")});
  INFO(failed.output);
  CHECK(failed.exit_code == 1);
  CHECK(failed.result["status"] == "error");
  CHECK(failed.result["error_type"] == "user");
  CHECK(failed.result["message"] == "bad input");
  CHECK(messages_from(failed, "stderr") == std::vector<std::string>{"bad input"});

  // An invalid component file is reported before anything runs (ConfigError, exit 65).
  std::ofstream(dir.path / "invalid.json") << R"({"id": "x"})";
  const auto invalid = run_example(exe, {(dir.path / "invalid.json").string()});
  CHECK(invalid.exit_code == 65);
  CHECK(invalid.output.find("$.image") != std::string::npos);
}

TEST_CASE("a worker built with find_package(runner) stops a long job from another thread",
          "[e2e][embed]") {
  TempDir dir;
  const fs::path exe = build_example(dir);
  // The example's watchdog thread calls EventStopSource::request_stop() after 3 s.
  const auto run = run_example(exe, {component(dir, "echo started; sleep 300"), "3"});
  INFO(run.output);
  CHECK(run.exit_code == 143);
  CHECK(messages_from(run, "stdout") == std::vector<std::string>{"started"});
  bool stopping_announced = false;
  for (const auto& e : run.events)
    stopping_announced =
        stopping_announced ||
        (e.source == "runner" && e.message.find("stopping the container") != std::string::npos);
  CHECK(stopping_announced);
  REQUIRE(run.result.is_object());
  CHECK(run.result["status"] == "terminated");
  CHECK(run.result["exit_code"] == 143);
  // "Terminated by <the stop source's reason>"
  CHECK(run.result["message"].get<std::string>().rfind("Terminated by ", 0) == 0);
  // Stopped after 3 s, 2 s grace, then killed: far from the 300 s sleep.
  CHECK(run.seconds < 60);
  CHECK(run.result["duration"].get<double>() >= 2.5);
  CHECK(containers_of_job(run.result["job_id"]) == 0);
}

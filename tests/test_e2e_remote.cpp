// End-to-end against an engine "on another machine": the TLS Docker-in-Docker engine of
// scripts/start-dind.sh (dockerd in a privileged container, reached at tcp://127.0.0.1:23760 with
// client certificates), whose own filesystem does not hold runner's folders. ctest runs these
// (label `remote`) after its fixture started that engine; each test points DOCKER_HOST,
// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH at it, for itself and the CLI. They are hidden ([.])
// from a plain `runner_tests` run, which may have no such engine: `runner_tests '[remote]'`. File
// handling is then by copy (auto for tcp://): inputs and config go in through the archive API,
// outputs come back; GELF reaches runner at --gelf-bind; a worker on this machine runs queued jobs
// there; and a certificate problem is a clear exit 69.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"
#include "exporter_test_support.hpp"
#include "fixtures.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::read_file;
using runner_test::read_json_lines;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::TempDir;
using runner_test::unique_name;
namespace fs = std::filesystem;

namespace {

runner::docker::EngineClient engine() {
  return runner::docker::EngineClient(
      runner::docker::EngineEndpoint::from_environment(std::nullopt));
}

// The address of this machine where the remote engine's containers reach it: Podman's bridge
// gateway, as the DinD container runs on Podman (docs/engines.md).
std::string gelf_bind() {
  const char* v = std::getenv("RUNNER_TEST_REMOTE_GELF_BIND");
  return v != nullptr && *v != '\0' ? v : "10.88.0.1";
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// The remote engine as scripts/start-dind.sh sets it up (RUNNER_DIND_DIR moves its folder).
std::map<std::string, std::string> remote_env() {
  return {
      {"DOCKER_HOST", env_or("RUNNER_TEST_REMOTE_HOST", "tcp://127.0.0.1:23760")},
      {"DOCKER_TLS_VERIFY", "1"},
      {"DOCKER_CERT_PATH", env_or("RUNNER_DIND_DIR", "/var/lib/runner-dind") + "/certs/client"}};
}

// Points this process's own engine calls (engine()) at the remote engine until the test ends.
class RemoteEngine {
 public:
  RemoteEngine()
      : host_("DOCKER_HOST", remote_env().at("DOCKER_HOST")),
        tls_("DOCKER_TLS_VERIFY", std::string("1")),
        certs_("DOCKER_CERT_PATH", remote_env().at("DOCKER_CERT_PATH")) {}

 private:
  runner_test::ScopedEnv host_;
  runner_test::ScopedEnv tls_;
  runner_test::ScopedEnv certs_;
};

std::map<std::string, std::string> remote_env_with(const std::map<std::string, std::string>& o) {
  auto env = remote_env();
  for (const auto& [k, v] : o) env[k] = v;
  return env;
}

struct Run {
  int exit_code;
  std::string out;
  std::string err;
  std::vector<json> events;
};

Run run_job(const json& doc, std::vector<std::string> extra = {}) {
  const std::string events = temp_file("", ".jsonl");
  std::vector<std::string> args = {"run", temp_file(doc.dump()), "--events", events, "--store",
                                   "none"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_cli(args, remote_env());
  Run out{r.exit_code, r.out, r.err, read_json_lines(events)};
  fs::remove(events);
  return out;
}

std::string messages(const std::vector<json>& events, const std::string& source) {
  std::string out;
  for (const auto& e : events)
    if (e["kind"] == "event" && e["source"] == source)
      out += e["message"].get<std::string>() + "\n";
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("remote engine: inputs and config go in by copy, outputs come back", "[.][remote]") {
  const RemoteEngine remote;
  const TempDir data_dir("runner-remote-data-");
  const fs::path& data = data_dir.path;
  fs::create_directories(data / "in" / "tables");
  fs::create_directories(data / "in" / "files");
  std::ofstream(data / "in" / "tables" / "orders.csv") << "id,total\n1,10\n2,32\n";
  std::ofstream(data / "in" / "files" / "note.txt") << "from the host";
  const std::string id = unique_name("test.remote-copy-");
  const json doc = {
      {"id", id},
      {"image", "runner-busybox:latest"},
      {"parameters", {{"multiplier", 3}}},
      {"command",
       {"sh", "-c",
        "set -e; tr -d ' \\n' < /data/config.json; echo; cat /data/in/files/note.txt; echo; "
        "awk -F, 'NR>1 {s+=$2} END {print \"sum,\" s}' /data/in/tables/orders.csv "
        "> /data/out/tables/sum.csv; mkdir -p /data/out/files/deep/er; "
        "echo nested > /data/out/files/deep/er/n.txt; chmod 640 /data/out/files/deep/er/n.txt; "
        "ln -s ../tables/sum.csv /data/out/files/link.csv; echo done"}}};
  const Run r = run_job(doc, {"--data-dir", data.string()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string out = messages(r.events, "stdout");
  CHECK_THAT(out, Catch::Contains(R"("parameters":{"multiplier":3})"));
  CHECK_THAT(out, Catch::Contains("from the host"));
  const std::string said = messages(r.events, "runner");
  CHECK_THAT(said, Catch::Contains("Copied the working folder into the container as /data"));
  CHECK_THAT(said, Catch::Contains("Copied /data/out back from the container"));
  CHECK(read_file((data / "out" / "tables" / "sum.csv").string()) == "sum,42\n");
  CHECK(read_file((data / "out" / "files" / "deep" / "er" / "n.txt").string()) == "nested\n");
  CHECK(mode_of(data / "out" / "files" / "deep" / "er" / "n.txt") == 0640);
  CHECK(fs::read_symlink(data / "out" / "files" / "link.csv") == "../tables/sum.csv");
  // The inputs are untouched, the generated config.json is gone, no container is left.
  CHECK(read_file((data / "in" / "files" / "note.txt").string()) == "from the host");
  CHECK_FALSE(fs::exists(data / "config.json"));
  CHECK(engine().list_containers({"io.runner.component-id=" + id}).empty());

  // The same job with bind mounts: this engine does not see runner's folders (it makes an empty
  // folder of that name on its own machine), which is why copy is the default here.
  const Run mounted = run_job(doc, {"--data-dir", data.string(), "--file-handling", "mount"});
  CHECK(mounted.exit_code == 1);
  CHECK_THAT(messages(mounted.events, "stderr"), Catch::Contains("/data/config.json"));
}

TEST_CASE("remote engine: a failing copy-out fails the job, a failing job keeps its exit code",
          "[.][remote]") {
  const RemoteEngine remote;
  // A component that removes its out/ folder: nothing to copy back is an error the job shows.
  const Run gone = run_job({{"id", "test.remote-no-out"},
                            {"image", "runner-busybox:latest"},
                            {"command", {"sh", "-c", "rm -rf /data/out; echo bye"}}});
  CHECK(gone.exit_code == 1);
  CHECK_THAT(gone.out, Catch::Contains("outputs could not be copied back") &&
                           Catch::Contains("no /data/out"));
  // A component's own failure stays what it was.
  const Run failed = run_job({{"id", "test.remote-fail"},
                              {"image", "runner-busybox:latest"},
                              {"command", {"sh", "-c", "echo broken >&2; exit 3"}}});
  CHECK(failed.exit_code == 2);
  CHECK_THAT(messages(failed.events, "stderr"), Catch::Contains("broken"));
}

TEST_CASE("remote engine: GELF over TCP reaches the job's server at --gelf-bind", "[.][remote]") {
  const RemoteEngine remote;
  const json message = {{"version", "1.1"},
                        {"host", "remote"},
                        {"short_message", "hello from the remote engine"},
                        {"level", 4},
                        {"_rows", 7}};
  std::string escaped;
  for (char c : message.dump()) escaped += c == '\'' ? std::string("'\\''") : std::string(1, c);
  const json doc = {{"id", "test.remote-gelf"},
                    {"image", "runner-busybox:latest"},
                    {"logging", {{"type", "gelf"}, {"gelf_server_type", "tcp"}}},
                    {"command",
                     {"sh", "-c",
                      "printf '" + escaped +
                          "\\0' | nc $KBC_LOGGER_ADDR $KBC_LOGGER_PORT; echo sent to "
                          "$KBC_LOGGER_ADDR"}}};
  const Run r = run_job(doc, {"--gelf-bind", gelf_bind()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  bool seen = false;
  for (const auto& e : r.events)
    if (e["kind"] == "event" && e["source"] == "gelf") {
      seen = true;
      CHECK(e["message"] == "hello from the remote engine");
      CHECK(e["level"] == "warning");
    }
  CHECK(seen);
  CHECK_THAT(messages(r.events, "stdout"), Catch::Contains("sent to " + gelf_bind()));

  // Without --gelf-bind runner cannot know where that engine's containers reach it: exit 64.
  const Run unbound = run_job(doc);
  CHECK(unbound.exit_code == 64);
  CHECK_THAT(unbound.out + unbound.err, Catch::Contains("needs --gelf-bind ADDRESS"));
  // An address that is not this machine's is refused before anything runs.
  const Run foreign = run_job(doc, {"--gelf-bind", "192.0.2.200"});
  CHECK(foreign.exit_code == 64);
  CHECK_THAT(foreign.out + foreign.err, Catch::Contains("--gelf-bind 192.0.2.200"));
}

TEST_CASE("remote engine: a worker on this machine runs queued jobs there", "[.][remote]") {
  const RemoteEngine remote;
  const TempDir queue_dir("runner-remote-queue-");
  const fs::path& dir = queue_dir.path;
  const std::string store = "sqlite:" + (dir / "queue.db").string();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const json doc = {{"id", "test.remote-worker"},
                      {"image", "runner-busybox:latest"},
                      {"parameters", {{"n", i}}},
                      {"command",
                       {"sh", "-c",
                        "tr -d ' \\n' < /data/config.json | grep -o '\"n\":[0-9]*'; echo out > "
                        "/data/out/files/r.txt"}}};
    const auto r = run_cli({"submit", temp_file(doc.dump()), "--store", store}, remote_env());
    REQUIRE(r.exit_code == 0);
    ids.push_back(r.out.substr(0, r.out.find('\n')));
  }
  CliProcess worker({"worker", "--store", store, "--concurrency", "2", "--max-jobs", "3"},
                    remote_env());
  REQUIRE(worker.wait(std::chrono::seconds(120)) == 0);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto shown = run_cli({"show", ids[i], "--store", store, "--json"});
    REQUIRE(shown.exit_code == 0);
    CHECK(json::parse(shown.out)["status"] == "success");
    const std::string text = run_cli({"logs", ids[i], "--store", store}).out;
    CHECK_THAT(text, Catch::Contains("\"n\":" + std::to_string(i)));
    CHECK_THAT(text, Catch::Contains("Copied /data/out back from the container"));
    CHECK(engine().list_containers({"io.runner.job-id=" + ids[i]}).empty());
  }
}

TEST_CASE("remote engine: certificate problems are exit 69 saying what to fix", "[.][remote]") {
  const RemoteEngine remote;
  const std::string certs = remote_env().at("DOCKER_CERT_PATH");
  const json doc = {
      {"id", "test.remote-tls"}, {"image", "runner-busybox:latest"}, {"command", {"true"}}};
  const std::string file = temp_file(doc.dump());

  // A CA that did not sign the engine's certificate.
  const TempDir certs_dir("runner-remote-certs-");
  const fs::path& other = certs_dir.path;
  REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other "
                       "-keyout " +
                       (other / "ca-key.pem").string() + " -out " + (other / "ca.pem").string() +
                       " >/dev/null 2>&1")
                          .c_str()) == 0);
  fs::copy_file(fs::path(certs) / "cert.pem", other / "cert.pem");
  fs::copy_file(fs::path(certs) / "key.pem", other / "key.pem");
  auto r = run_cli({"run", file, "--store", "none"},
                   remote_env_with({{"DOCKER_CERT_PATH", other.string()}}));
  CHECK(r.exit_code == 69);
  CHECK_THAT(r.out + r.err, Catch::Contains("TLS: the certificate of the Docker engine at "
                                            "tcp://127.0.0.1:23760 was not accepted"));

  // No client certificate: the engine requires one.
  fs::remove(other / "cert.pem");
  fs::remove(other / "key.pem");
  fs::copy_file(fs::path(certs) / "ca.pem", other / "ca.pem", fs::copy_options::overwrite_existing);
  r = run_cli({"run", file, "--store", "none"},
              remote_env_with({{"DOCKER_CERT_PATH", other.string()}}));
  CHECK(r.exit_code == 69);
  CHECK_THAT(r.out + r.err, Catch::Contains("client certificate"));

  // Plain HTTP to a TLS port.
  r = run_cli({"run", file, "--store", "none"}, remote_env_with({{"DOCKER_TLS_VERIFY", ""}}));
  CHECK(r.exit_code == 69);
  CHECK_THAT(r.out + r.err, Catch::Contains("speaks TLS: set DOCKER_TLS_VERIFY=1"));
}

// End-to-end, issue 11: runner tried as an attacker would, on the real engine. Inputs that
// crashed `runner run`, `runner submit` and every worker that claimed them are config errors
// (exit 65, the path, nothing created); one job container cannot forge GELF datagrams from
// another's address; component text cannot drive the operator's terminal; a secret cannot reach
// a record; an engine that goes away mid-job leaves a message naming the container and
// `runner gc`.
#include "cli_process.hpp"
#include "docker/engine_client.hpp"
#include "docker/engine_errors.hpp"
#include "engine_proxy.hpp"
#include "fixtures.hpp"
#include "store/store.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>
#include <random>
#include <thread>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::unique_name;

namespace {

runner::docker::EngineClient engine() {
  return runner_test::engine_client();
}

std::size_t containers_of_component(const std::string& component_id) {
  return engine().list_containers({"io.runner.component-id=" + component_id}).size();
}

// The inputs of the issue that crashed the parser (exit 139) or echoed whole numbers (exit 70),
// and those the engine refused only after a container existed; each with the path named.
std::vector<std::pair<std::string, std::string>> hostile_components(const std::string& id) {
  const std::string huge(100000, 'a');
  const std::string base = R"({"id":")" + id + R"(","image":"runner-busybox:latest",)";
  return {
      {R"({"id":")" + huge + R"(","image":"runner-busybox:latest"})", "$.id: expected"},
      {base + R"("namespace":")" + huge + "\"}", "$.namespace: expected"},
      {base + R"("env":{")" + huge + R"(":"v"}})", "$.env.aaaaaaaa"},
      {base + R"("limits":{"memory":")" + huge + "\"}}", "$.limits.memory: expected"},
      {base + R"("parameters":{"p":)" + std::string(100000, '[') + std::string(100000, ']') + "}}",
       "$.parameters.p[0]"},
      {base + R"("limits":{"timeout":1e999999999}})", "$.limits.timeout: number out of range"},
      {base + R"("limits":{"timeout":)" + std::string(100000, '9') + "}}",
       "$.limits.timeout: a number of 100000 characters"},
      {base + R"("limits":{"cpus":1e10}})", "$.limits.cpus: expected"},
      {base + R"("command":["sh","-c","echo\u0000hi"]})", "$.command[2]: contains a NUL"},
      {base + R"("env":{"A":"x\u0000y"}})", "$.env.A: contains a NUL"},
      {R"({"id":")" + id + R"(","image":"UPPER/../x::"})", "$.image: expected an image reference"},
      {base + R"("user":"-1"})", "$.user: expected a user name or uid"},
      {R"({"id":")" + id + R"(","image":"runner-busybox:latest","image":"other:1"})",
       "$.image: duplicate key"},
  };
}

}  // namespace

TEST_CASE("hostile component files: runner run and runner submit exit 65 naming the path",
          "[e2e][hostile]") {
  const std::string id = unique_name("test.hostile-");
  const auto dir = std::filesystem::temp_directory_path() / unique_name("runner-hostile-");
  std::filesystem::create_directories(dir);
  const std::string store = "sqlite:" + (dir / "queue.db").string();
  runner_test::EngineProxy proxy;  // shows what runner asked the engine for
  for (const auto& [text, expected] : hostile_components(id)) {
    const std::string file = temp_file(text);
    INFO(text.substr(0, 100));
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", file, "--store", "none", "--docker-host",
                                   proxy.docker_host()},
          std::vector<std::string>{"submit", file, "--store", store}}) {
      const auto r = run_cli(args);
      CHECK(r.exit_code == 65);
      CHECK_THAT(r.err, Catch::Contains(expected));
      CHECK(r.err.size() < 4000);  // an excerpt, never the 100,000 characters
      CHECK(r.out.empty());        // no job id printed, no job run
    }
    std::filesystem::remove(file);
  }
  CHECK(proxy.count("POST", "/containers/create") == 0);
  CHECK(proxy.requests().empty());  // refused before the engine was even asked
  const auto db = runner::store::open_store(store);
  CHECK(db->list_jobs({}).empty());  // nothing was queued
  std::filesystem::remove_all(dir);
}

TEST_CASE("a poison spec in the queue ends as an error job and the worker lives on",
          "[e2e][hostile][worker]") {
  // Specs a worker reads back from the store are outside input too: written by an older runner,
  // by hand, or by anything with access to the database. Each used to kill every worker that
  // claimed it.
  const auto dir = std::filesystem::temp_directory_path() / unique_name("runner-poison-");
  std::filesystem::create_directories(dir);
  const std::string url = "sqlite:" + (dir / "queue.db").string();
  auto db = runner::store::open_store(url);
  std::vector<std::pair<std::string, std::string>> poison;
  const auto hostile = hostile_components("test.poison");
  for (const std::size_t i : {std::size_t{0}, std::size_t{4}, std::size_t{5}, std::size_t{12}}) {
    runner::store::JobRecord job;
    job.id = unique_name("poison-");
    job.component_id = "test.poison";
    job.status = std::string(runner::store::kStatusWaiting);
    job.created_at = runner::logging::now_utc();
    job.spec = hostile[i].first;
    db->enqueue(job);
    poison.emplace_back(job.id, hostile[i].second);
  }
  runner::store::JobRecord good;
  good.id = unique_name("good-");
  good.component_id = "test.after-poison";
  good.status = std::string(runner::store::kStatusWaiting);
  good.created_at = runner::logging::now_utc();
  good.priority = -1;  // after the poison ones
  good.spec = json{{"id", "test.after-poison"},
                   {"image", "runner-busybox:latest"},
                   {"command", {"echo", "still alive"}}}
                  .dump();
  db->enqueue(good);

  const auto r = run_cli({"worker", "--store", url, "--max-jobs", "5", "--id", "poison-worker"});
  CHECK(r.exit_code == 0);
  for (const auto& [id, expected] : poison) {
    const auto job = db->find_job(id);
    REQUIRE(job.has_value());
    INFO(job->message.substr(0, 300));
    CHECK(job->status == "error");
    CHECK(job->attempts == 1);
    CHECK(job->exit_code == 65);
    CHECK_THAT(job->message, Catch::StartsWith("invalid component: ") && Catch::Contains(expected));
    CHECK(job->message.size() < 4000);
  }
  const auto after = db->find_job(good.id);
  REQUIRE(after.has_value());
  CHECK(after->status == "success");
  std::filesystem::remove_all(dir);
}

TEST_CASE("more CPUs than the engine's host has is exit 65 before a container exists",
          "[e2e][hostile]") {
  const std::string id = unique_name("test.cpus-");
  const auto data = std::filesystem::temp_directory_path() / unique_name("runner-cpus-");
  std::filesystem::create_directories(data);
  runner_test::EngineProxy proxy;
  const auto r = run_cli({"run",
                          temp_file(json{{"id", id},
                                         {"image", "runner-busybox:latest"},
                                         {"limits", {{"cpus", 1000}}},
                                         {"command", {"sh", "-c", "touch /data/out/ran"}}}
                                        .dump()),
                          "--store", "none", "--data-dir", data.string(), "--docker-host",
                          proxy.docker_host()});
  CHECK(r.exit_code == 65);
  CHECK_THAT(r.out, Catch::Contains("$.limits.cpus: expected at most") &&
                        Catch::Contains("(the CPUs of the engine's host), got 1000"));
  // The engine was asked how many CPUs its host has, and for nothing else to be made.
  CHECK(proxy.count("GET", "/info") == 1);
  CHECK(proxy.count("POST", "/containers/create") == 0);
  CHECK(std::filesystem::is_empty(data));
  std::filesystem::remove_all(data);
}

TEST_CASE("component text cannot drive the operator's terminal", "[e2e][hostile][terminal]") {
  // The issue's attack: move up, erase the line, carriage return, a fake summary; then an OSC
  // window title; and the same on stderr, which ends up in the real summary line.
  const std::string script =
      "printf '\\033[1A\\033[2K\\rJob 0000 succeeded in 0.01 s\\n'; "
      "printf '\\033]0;owned\\007title\\n'; "
      "printf '\\033[2J\\033[Hbad\\n' >&2; exit 1";
  const std::string events = temp_file("", ".jsonl");
  const auto r = run_cli({"run",
                          temp_file(json{{"id", "test.escape"},
                                         {"image", "runner-busybox:latest"},
                                         {"command", {"sh", "-c", script}}}
                                        .dump()),
                          "--events", events, "--store", "none"});
  CHECK(r.exit_code == 1);
  // stdout is not a terminal here, so runner adds no colour: every ESC would be the component's.
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find('\x07') == std::string::npos);
  CHECK(r.out.find('\r') == std::string::npos);
  // The '\r' redraws the line (issue 15: its final state is what is kept, as a terminal shows
  // it): the fake summary is a component line after runner's prefix, never at column 0.
  CHECK_THAT(r.out, Catch::Contains("INFO      Job 0000 succeeded in 0.01 s\n"));
  CHECK(r.out.find("\nJob 0000") == std::string::npos);
  CHECK_THAT(r.out, Catch::Contains("␛]0;owned␇title"));
  CHECK_THAT(r.out, Catch::Contains("failed (user error)") && Catch::Contains("␛[2J␛[Hbad"));
  // --events keeps the exact text (of the redrawn line: its final state; the other lines as
  // they were, escapes included).
  bool exact = false;
  for (const auto& e : runner_test::read_json_lines(events))
    if (e["kind"] == "event" && e["source"] == "stdout" && e["message"] == "\x1b]0;owned\x07title")
      exact = true;
  CHECK(exact);
  std::filesystem::remove(events);
}

TEST_CASE("a secret in the component id is refused before any record is written",
          "[e2e][hostile][secrets]") {
  const auto dir = std::filesystem::temp_directory_path() / unique_name("runner-secret-id-");
  std::filesystem::create_directories(dir);
  const std::string store = "sqlite:" + (dir / "runner.db").string();
  const std::string file = temp_file(json{
      {"id", "acme-Pa55word-x9"},
      {"image", "runner-busybox:latest"},
      {"command", {"true"}},
      {"parameters",
       {{"#password", "Pa55word-x9"}}}}.dump());
  for (const char* command : {"run", "submit"}) {
    const auto r = run_cli({command, file, "--store", store});
    CHECK(r.exit_code == 65);
    CHECK_THAT(r.err, Catch::Contains("$.id: contains a secret"));
    CHECK(r.err.find("Pa55word-x9") == std::string::npos);
    CHECK(r.out.find("Pa55word-x9") == std::string::npos);
  }
  CHECK(runner::store::open_store(store)->list_jobs({}).empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("an engine going away mid-job: exit 69, and the container and runner gc are named",
          "[e2e][hostile][engine]") {
  const std::string id = unique_name("test.engine-gone-");
  // The engine "goes away" for runner only: the real dockerd is shared and never stopped.
  runner_test::EngineProxy relay;
  CliProcess run({"run",
                  temp_file(json{{"id", id},
                                 {"image", "runner-busybox:latest"},
                                 {"command", {"sh", "-c", "echo started; sleep 120"}}}
                                .dump()),
                  "--docker-host", relay.docker_host(), "--store", "none"});
  REQUIRE(run.wait_for_output("started"));
  const auto cut_at = std::chrono::steady_clock::now();
  relay.cut();
  CHECK(run.wait(std::chrono::seconds(30)) == 69);
  CHECK(std::chrono::steady_clock::now() - cut_at < std::chrono::seconds(10));
  // The container is still there (the engine itself never went away), and runner said so.
  auto client = engine();
  const auto left = client.list_containers({"io.runner.component-id=" + id});
  REQUIRE(left.size() == 1);
  const std::string short_id = left[0].id.substr(0, 12);
  CHECK_THAT(run.out(), Catch::Contains("container " + short_id) &&
                            Catch::Contains("may still be running when the engine is back") &&
                            Catch::Contains("`runner gc` removes it"));
  // And `runner gc` would indeed remove it now that its runner is gone (dry run: other tests'
  // orphans on this shared engine are not ours to remove).
  const auto gc = run_cli({"gc", "--dry-run"});
  CHECK_THAT(gc.out, Catch::Contains("would remove") && Catch::Contains(short_id));
  client.remove_container(left[0].id);
  CHECK(containers_of_component(id) == 0);
}

namespace {

// Sends one GELF datagram with a forged IPv4 source address through a raw socket (IP_HDRINCL),
// as a second job on the same bridge could: python3 in the runner-python-gelf image.
constexpr const char* kSpoofScript = R"(
import socket, struct, sys
src, dst, port, text = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
payload = ('{"version":"1.1","host":"victim","short_message":"%s","level":3}' % text).encode()
udp = struct.pack('!HHHH', 41000, port, 8 + len(payload), 0) + payload
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + udp, (dst, 0))
print('sent a datagram from', src)
)";

runner_test::CliResult spoof(const std::string& victim_ip, const std::string& address,
                             const std::string& port, const std::string& text,
                             const json& security) {
  json doc = {{"id", "test.spoofer"},
              {"image", "runner-python-gelf:latest"},
              {"command", {"python3", "-c", kSpoofScript, victim_ip, address, port, text}}};
  if (!security.is_null()) doc["security"] = security;
  return run_cli({"run", temp_file(doc.dump()), "--store", "none"});
}

}  // namespace

TEST_CASE("a job container cannot forge GELF datagrams from another job's address",
          "[e2e][hostile][gelf]") {
  const std::string id = unique_name("test.victim-");
  const std::string events = temp_file("", ".jsonl");
  CliProcess victim({"run",
                     temp_file(json{{"id", id},
                                    {"image", "runner-busybox:latest"},
                                    {"logging", {{"type", "gelf"}, {"gelf_server_type", "udp"}}},
                                    {"command", {"sh", "-c", "echo up; sleep 120"}}}
                                   .dump()),
                     "--events", events, "--store", "none"});
  REQUIRE(victim.wait_for_output("GELF server (udp) listening on "));
  // The server's address and port, and the victim container's own address.
  std::string address, port;
  {
    const std::string out = victim.out();
    const auto at = out.find("listening on ") + 13;
    const auto end = out.find_first_of(" \n", at);
    const std::string endpoint = out.substr(at, end - at);
    address = endpoint.substr(0, endpoint.rfind(':'));
    port = endpoint.substr(endpoint.rfind(':') + 1);
  }
  std::string victim_ip;
  auto client = engine();
  for (int i = 0; i < 100 && victim_ip.empty(); ++i) {
    const auto found = client.list_containers({"io.runner.component-id=" + id});
    try {
      if (!found.empty()) {
        const auto state = client.inspect_container(found[0].id);
        if (state.running) victim_ip = state.ip_address;
      }
    } catch (const runner::docker::EngineApiError&) {
      // Listed, then gone before the inspect: the victim's run ended (its output says why).
    }
    if (victim_ip.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO("the victim job: " << victim.out() << victim.err());
  REQUIRE_FALSE(victim_ip.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // allow_only is in force

  auto gelf_messages = [&] {
    std::vector<std::string> out;
    for (const auto& e : runner_test::complete_json_lines(events))
      if (e["kind"] == "event" && e["source"] == "gelf") out.push_back(e["message"]);
    return out;
  };

  // By default NET_RAW is dropped: the raw socket cannot even be opened.
  const auto blocked = spoof(victim_ip, address, port, "spoofed-by-default", json());
  CHECK(blocked.exit_code == 1);
  CHECK_THAT(blocked.out + blocked.err, Catch::Contains("Operation not permitted"));

  // Given back (documented as weakening isolation), the same container forges the datagram and
  // the victim's server takes it as the victim's own: the check above is what stops it.
  const auto forged =
      spoof(victim_ip, address, port, "spoofed-with-net-raw", json{{"cap_add", {"NET_RAW"}}});
  CHECK(forged.exit_code == 0);
  bool arrived = false;
  for (int i = 0; i < 100 && !arrived; ++i) {
    for (const auto& m : gelf_messages()) arrived = arrived || m == "spoofed-with-net-raw";
    if (!arrived) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(arrived);

  victim.signal(SIGINT);
  CHECK(victim.wait(std::chrono::seconds(30)) == 130);
  for (const auto& m : gelf_messages()) CHECK(m != "spoofed-by-default");
  CHECK(containers_of_component(id) == 0);
  std::filesystem::remove(events);
}

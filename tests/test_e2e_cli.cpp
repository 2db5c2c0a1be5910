// End-to-end: the documented behaviour of `runner run`'s command line that the other e2e files
// do not reach: exit codes 69 (an engine older than API 1.40) and 70 (an internal error) with
// their result's error_type, `--events -`, `-v`, `-q`, colour on a real terminal (a pty; the
// harness otherwise sets NO_COLOR), `--docker-host tcp://`, a default store that cannot be
// opened, `encrypt` reading stdin, a bad `--outputs` path, and `pull_policy: always` with
// registry `auth`. No registry is reachable here, so the pull is checked where it can be: the
// request the engine receives, through a recording proxy in front of the real engine.
#include "cli_process.hpp"
#include "engine_proxy.hpp"
#include "fixtures.hpp"
#include "secrets/config_cipher.hpp"
#include "secrets/encoding.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::TempDir;
using runner_test::unique_name;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

std::string component(const std::string& script, const json& extra = json::object()) {
  json doc = {{"id", "test.e2e-cli"}, {"image", kImage}, {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return temp_file(doc.dump());
}

json result_of(const std::string& events_path) {
  const auto records = runner_test::read_json_lines(events_path);
  return records.empty() ? json() : records.back();
}

// `runner ARGS` with stdout and stderr on a pseudo-terminal, as in a person's shell: what the
// terminal showed, and the exit code. NO_COLOR is removed from the environment unless given.
std::pair<int, std::string> run_on_terminal(const std::vector<std::string>& args,
                                            const std::map<std::string, std::string>& env) {
  int master = -1;
  int slave = -1;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  std::vector<std::string> argv_store = {RUNNER_BIN};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  merged.erase("NO_COLOR");
  merged["DOCKER_HOST"] = runner_test::engine_host();
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_store;
  for (const auto& [k, v] : merged) env_store.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, slave, 1);
  posix_spawn_file_actions_adddup2(&actions, slave, 2);
  posix_spawn_file_actions_addclose(&actions, master);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(slave);
  REQUIRE(rc == 0);
  // Read until every writer of the terminal is gone (EIO), so the child never blocks on it.
  std::string output;
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{master, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A protocol peer standing in for an engine older than API 1.40 (Docker 18.09 speaks 1.39): it
// answers /_ping and /version as such an engine does, on a Unix socket of its own. The reason
// for the thread: it must answer while the test waits for the runner process.
class OldEngine {
 public:
  OldEngine() {
    path_ = (std::filesystem::temp_directory_path() / unique_name("runner-old-engine-")).string() +
            ".sock";
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~OldEngine() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
    ::unlink(path_.c_str());
  }
  OldEngine(const OldEngine&) = delete;
  OldEngine& operator=(const OldEngine&) = delete;
  std::string docker_host() const { return "unix://" + path_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd pfd{listener_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string in;
      char buffer[4096];
      for (;;) {
        const auto end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          const std::string line = in.substr(0, in.find("\r\n"));
          in.erase(0, end + 4);
          ++requests_;
          const std::string body =
              line.find("/version") != std::string::npos
                  ? R"({"Version":"18.09.9","ApiVersion":"1.39","MinAPIVersion":"1.12"})"
                  : "OK";
          const std::string answer =
              "HTTP/1.1 200 OK\r\nApi-Version: 1.39\r\nContent-Type: text/plain\r\n"
              "Content-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body;
          if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
          continue;
        }
        pollfd cfd{fd, POLLIN, 0};
        if (::poll(&cfd, 1, 2000) <= 0) break;
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        in.append(buffer, static_cast<std::size_t>(n));
      }
      ::close(fd);
    }
  }

  std::string path_;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::string base64url_decode(std::string text) {
  for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    const auto v = chars.find(c);
    if (v == std::string::npos) continue;  // padding
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("an engine older than API 1.40 exits 69 with error_type engine", "[e2e][cli][engine]") {
  OldEngine old;
  const std::string events = temp_file("", ".jsonl");
  const auto r = run_cli({"run", component("echo never"), "--docker-host", old.docker_host(),
                          "--events", events, "--store", "none"});
  CHECK(r.exit_code == 69);
  CHECK_THAT(r.out, Catch::Contains("speaks API 1.39; runner needs API 1.40 or newer"));
  const json result = result_of(events);
  CHECK(result["status"] == "error");
  CHECK(result["error_type"] == "engine");
  CHECK(result["exit_code"] == 69);
  CHECK(old.requests() >= 1);
  // The other commands that talk to the engine refuse it the same way.
  const auto gc = run_cli({"gc", "--dry-run", "--docker-host", old.docker_host()});
  CHECK(gc.exit_code == 69);
  CHECK_THAT(gc.err, Catch::Contains("speaks API 1.39"));
  std::filesystem::remove(events);
}

TEST_CASE("an internal error exits 70 with error_type internal and creates nothing", "[e2e][cli]") {
  // The working folder cannot be made (TMPDIR names no folder): runner's own failure, not the
  // component's or the engine's.
  runner_test::EngineProxy engine;
  const std::string events = temp_file("", ".jsonl");
  const auto r = run_cli({"run", component("echo never"), "--docker-host", engine.docker_host(),
                          "--events", events, "--store", "none"},
                         {{"TMPDIR", "/nonexistent/runner-tmp"}});
  CHECK(r.exit_code == 70);
  CHECK_THAT(r.out, Catch::Contains("failed (internal error)") &&
                        Catch::Contains("cannot create the job's working folder"));
  const json result = result_of(events);
  CHECK(result["error_type"] == "internal");
  CHECK(result["exit_code"] == 70);
  CHECK(engine.count("POST", "/containers/create") == 0);
  std::filesystem::remove(events);
}

TEST_CASE("run --events - puts JSON Lines on stdout and the terminal view on stderr, -v and -q",
          "[e2e][cli]") {
  const std::string file = component(
      R"(echo '::{"logs":[{"level":"DEBUG","message":"debug detail"}]}::'; echo plain line; )"
      R"(echo 'a warning' >&2)");
  const auto both = run_cli({"run", file, "--events", "-", "--store", "none"});
  REQUIRE(both.exit_code == 0);
  std::vector<json> records;
  std::istringstream lines(both.out);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    const json record = json::parse(line, nullptr, false);
    REQUIRE_FALSE(record.is_discarded());  // nothing but JSON on stdout
    records.push_back(record);
  }
  REQUIRE(records.size() >= 4);
  CHECK(records.back()["kind"] == "result");
  bool debug_event = false, plain_event = false;
  for (const auto& e : records) {
    debug_event = debug_event ||
                  (e["kind"] == "event" && e["message"] == "debug detail" && e["level"] == "debug");
    plain_event = plain_event || (e["kind"] == "event" && e["message"] == "plain line");
  }
  CHECK(debug_event);  // the JSON Lines keep every level
  CHECK(plain_event);
  // The terminal view went to stderr, at the default level (info).
  CHECK_THAT(both.err, Catch::Contains("INFO      plain line") && Catch::Contains("succeeded"));
  CHECK(both.err.find("debug detail") == std::string::npos);
  CHECK(both.err.find("{\"kind\"") == std::string::npos);

  const auto verbose = run_cli({"run", file, "-v", "--store", "none"});
  REQUIRE(verbose.exit_code == 0);
  CHECK_THAT(verbose.out, Catch::Contains("DEBUG     [kestra] debug detail"));
  CHECK_THAT(verbose.out, Catch::Contains("INFO      plain line"));

  const auto quiet = run_cli({"run", file, "-q", "--store", "none"});
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.out.find("plain line") == std::string::npos);
  CHECK(quiet.out.find("debug detail") == std::string::npos);
  CHECK_THAT(quiet.out, Catch::Contains("ERROR     [stderr] a warning"));  // errors still show
  CHECK_THAT(quiet.out, Catch::Contains("succeeded in"));
}

TEST_CASE("colours on a terminal, none with NO_COLOR or --no-color", "[e2e][cli][terminal]") {
  // The component's own escape sequence is shown, never executed, also with colours on.
  const std::string file = component(R"(echo hello; printf '\033[2Jcleared\n'; exit 1)");
  const auto [code, shown] = run_on_terminal({"run", file, "--store", "none"}, {});
  CHECK(code == 1);
  CHECK_THAT(shown, Catch::Contains("\x1b[32mINFO     \x1b[0m"));  // the level, in green
  CHECK_THAT(shown, Catch::Contains("\x1b[1;31mJob "));            // the failed summary, in red
  CHECK_THAT(shown, Catch::Contains("hello"));
  CHECK_THAT(shown, Catch::Contains("\xe2\x90\x9b[2Jcleared"));  // ␛[2J, not ESC [2J
  CHECK(shown.find("\x1b[2J") == std::string::npos);

  const auto [code2, plain] =
      run_on_terminal({"run", file, "--store", "none"}, {{"NO_COLOR", "1"}});
  CHECK(code2 == 1);
  CHECK_THAT(plain, Catch::Contains("INFO      hello"));
  CHECK(plain.find('\x1b') == std::string::npos);

  const auto [code3, flagged] = run_on_terminal({"run", file, "--store", "none", "--no-color"}, {});
  CHECK(code3 == 1);
  CHECK_THAT(flagged, Catch::Contains("INFO      hello"));
  CHECK(flagged.find('\x1b') == std::string::npos);
}

TEST_CASE("run --docker-host tcp:// reaches the engine over TCP", "[e2e][cli][engine]") {
  // The engine listens on its Unix socket only; a TCP relay in front of it is the tcp:// engine.
  runner_test::EngineProxy tcp(runner_test::EngineProxy::Listen::tcp);
  REQUIRE(tcp.docker_host().rfind("tcp://127.0.0.1:", 0) == 0);
  const auto r = run_cli(
      {"run", component("echo over tcp"), "--docker-host", tcp.docker_host(), "--store", "none"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("INFO      over tcp"));
  // Every call went this way (DOCKER_HOST names the Unix socket: the flag won).
  CHECK(tcp.count("GET", "/_ping") >= 1);
  CHECK(tcp.count("POST", "/containers/create") == 1);
  std::size_t removals = 0;
  for (const auto& request : tcp.requests())
    removals +=
        request.method == "DELETE" && request.target.find("/containers/") != std::string::npos ? 1
                                                                                               : 0;
  CHECK(removals == 1);
  // The image is present and pull_policy is if-not-present: no pull.
  CHECK(tcp.count("POST", "/images/create") == 0);
}

TEST_CASE("a default store that cannot be opened only warns", "[e2e][cli][store]") {
  TempDir dir;
  std::ofstream(dir.path / "file") << "not a folder";
  // $RUNNER_HOME/runner.db would have to be made inside a regular file.
  const auto r =
      run_cli({"run", component("echo still runs")},
              {{"RUNNER_HOME", (dir.path / "file" / "home").string()}, {"RUNNER_STORE", ""}});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("INFO      still runs"));
  CHECK_THAT(r.err, Catch::Contains("runner: warning: events are not kept: cannot open sqlite:") &&
                        Catch::Contains("(use --store none to silence this)"));
  // --store none silences it.
  const auto none = run_cli({"run", component("echo quiet"), "--store", "none"},
                            {{"RUNNER_HOME", (dir.path / "file" / "home").string()}});
  CHECK(none.exit_code == 0);
  CHECK(none.err.empty());
}

TEST_CASE("encrypt reads the value from stdin without its final newline", "[e2e][cli][secrets]") {
  TempDir dir;
  const std::string key_file = (dir.path / "secret.key").string();
  REQUIRE(run_cli({"keygen", "--key-file", key_file}).exit_code == 0);
  const auto key = runner::secrets::read_key_file(key_file);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"s3cret\n", "s3cret"},            // echo
      {"s3cret\r\n", "s3cret"},          // a Windows line
      {"no newline", "no newline"},      // echo -n
      {"two\n\n", "two\n"},              // only one newline is the shell's
      {"multi\nline\n", "multi\nline"},  // a value of several lines
  };
  for (const auto& [input, value] : cases) {
    INFO(json(input).dump());
    const auto r = run_cli({"encrypt", "--key-file", key_file}, {}, input);
    REQUIRE(r.exit_code == 0);
    const std::string ciphertext = r.out.substr(0, r.out.find('\n'));
    CHECK(runner::secrets::decrypt_value(key, ciphertext) == value);
    CHECK(r.out.find(value) == std::string::npos);
  }
}

TEST_CASE("a bad --outputs path is a usage error before anything runs", "[e2e][cli]") {
  runner_test::EngineProxy engine;
  const auto r = run_cli({"run", component("echo ran"), "--outputs", "/nonexistent/dir/out.json",
                          "--docker-host", engine.docker_host(), "--store", "none"});
  CHECK(r.exit_code == 64);
  CHECK_THAT(r.err, Catch::Contains("--outputs") && Catch::Contains("/nonexistent/dir/out.json"));
  CHECK(r.out.find("ran") == std::string::npos);
  CHECK(engine.count("POST", "/containers/create") == 0);
}

TEST_CASE("pull_policy always pulls first, sending the registry credentials", "[e2e][cli][pull]") {
  // A registry address where nothing listens: the engine's pull fails at once (127.0.0.0/8 is
  // an insecure registry by default, so no TLS either), and the request it received shows what
  // runner sent.
  const std::string registry = "127.0.0.1:" + std::to_string(runner_test::unused_tcp_port());
  const std::string image = registry + "/runner-test/private:1.0";
  const std::string password = unique_name("pull-pass-");
  runner_test::EngineProxy engine;
  const std::string events = temp_file("", ".jsonl");
  const auto r = run_cli(
      {"run",
       component(
           "echo never",
           {{"image", image},
            {"pull_policy", "always"},
            {"auth", {{"username", "robot"}, {"#password", password}, {"server", registry}}}}),
       "--docker-host", engine.docker_host(), "--events", events, "--store", "none",
       "--pull-attempts", "1"});
  CHECK(r.exit_code == 1);
  const json result = result_of(events);
  CHECK(result["error_type"] == "user");
  CHECK_THAT(result["message"].get<std::string>(),
             Catch::Contains("cannot pull image \"" + image + "\""));
  std::vector<runner_test::ProxiedRequest> pulls;
  for (const auto& request : engine.requests())
    if (request.method == "POST" && runner_test::api_path(request.target) == "/images/create")
      pulls.push_back(request);
  REQUIRE(pulls.size() == 1);
  CHECK_THAT(pulls[0].target,
             Catch::Contains("fromImage=" +
                             runner::secrets::url_encode(registry + "/runner-test/private")) &&
                 Catch::Contains("tag=1.0"));
  REQUIRE(pulls[0].headers.count("x-registry-auth") == 1);
  const json auth = json::parse(base64url_decode(pulls[0].headers.at("x-registry-auth")));
  CHECK(auth["username"] == "robot");
  CHECK(auth["password"] == password);
  CHECK(auth["serveraddress"] == registry);
  // always: the pull came first, and with it failing nothing was created.
  CHECK(engine.count("POST", "/containers/create") == 0);
  // The password is a secret: in no output.
  CHECK(r.out.find(password) == std::string::npos);
  CHECK(r.err.find(password) == std::string::npos);
  CHECK(runner_test::read_file(events).find(password) == std::string::npos);
  std::filesystem::remove(events);
}

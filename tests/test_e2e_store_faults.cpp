// End-to-end: the store failing under `runner run` (issue 14), with the real runner, Docker
// engine, SQLite and PostgreSQL. Each case shows every event stored, or the loss recorded:
// another process holding runner.db's write lock (BEGIN EXCLUSIVE) for 15 s mid-job, and
// before the job starts; PostgreSQL unreachable for 8 s mid-job (a TCP relay of the test's own
// is cut: the shared server is never stopped); a store that refuses events (a trigger) records
// which are missing, and --require-store fails the job; `kill -9` of `runner run`, then
// `runner gc`, ends the job as error; RUNNER_HOME on a 2 MB tmpfs that 200,000 random lines fill
// (the loss is recorded, the job finished); a lock longer than RUNNER_STORE_RETRY_SECONDS and a
// spool past RUNNER_SPOOL_MAX_BYTES (the loss is recorded with its cause); bad values of both
// are usage errors naming them.
#include "cli_process.hpp"
#include "fixtures.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
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

struct Home : TempDir {
  Home() : TempDir("runner-faults-") {}
  std::string db() const { return (path / "runner.db").string(); }
  std::map<std::string, std::string> env() const {
    return {{"RUNNER_HOME", path.string()}, {"RUNNER_STORE", ""}};
  }
};

// `lines` lines "line N", one every `gap` seconds.
std::string ticking_component(int lines, const std::string& gap) {
  json doc = {{"id", "test.faults"},
              {"image", kImage},
              {"command",
               {"sh", "-c",
                "i=1; while [ $i -le " + std::to_string(lines) +
                    " ]; do echo \"line $i\"; i=$((i+1)); "
                    "sleep " +
                    gap + "; done"}}};
  return temp_file(doc.dump());
}

std::string job_id_of(const std::string& out) {
  const auto pos = out.find("Job ");
  REQUIRE(pos != std::string::npos);
  return out.substr(pos + 4, 36);
}

// The stdout lines "line N" the store holds for `job`, in order.
std::vector<std::string> stored_lines(const std::string& store, const std::string& job) {
  auto r = run_cli({"logs", job, "--store", store, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::set<std::uint64_t> seqs;
  for (const auto& e : json_lines(r.out)) {
    CHECK(seqs.insert(e["seq"].get<std::uint64_t>()).second);  // each event once
    if (e["source"] == "stdout") lines.push_back(e["message"]);
  }
  return lines;
}

std::vector<std::string> expected_lines(int n) {
  std::vector<std::string> v;
  for (int i = 1; i <= n; ++i) v.push_back("line " + std::to_string(i));
  return v;
}

json show(const std::string& store, const std::string& job) {
  auto r = run_cli({"show", job, "--store", store, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// Another process's write lock on an SQLite file: BEGIN EXCLUSIVE until release().
class SqliteLock {
 public:
  explicit SqliteLock(const std::string& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 30000);
    char* error = nullptr;
    INFO((error != nullptr ? error : ""));
    REQUIRE(sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, &error) == SQLITE_OK);
  }
  ~SqliteLock() {
    release();
    sqlite3_close(db_);
  }
  void release() {
    if (held_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    held_ = false;
  }

 private:
  sqlite3* db_ = nullptr;
  bool held_ = true;
};

void sqlite_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO(sql << ": " << (error != nullptr ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// A TCP relay to PostgreSQL that the test can cut (listener and every connection closed, so
// runner's connection breaks and new ones are refused) and restore on the same port.
class TcpRelay {
 public:
  TcpRelay(std::string target_host, int target_port)
      : host_(std::move(target_host)), target_port_(target_port) {
    listen_on(0);
    thread_ = std::thread([this] { loop(); });
  }
  ~TcpRelay() {
    stop_ = true;
    thread_.join();
    std::lock_guard lock(mutex_);
    close_all();
  }
  int port() const { return port_; }
  void cut() {
    std::lock_guard lock(mutex_);
    close_all();
  }
  void restore() {
    std::lock_guard lock(mutex_);
    listen_on(port_);
  }

 private:
  void listen_on(int port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 64) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  void close_all() {
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
    for (const auto& [a, b] : pairs_) {
      ::close(a);
      ::close(b);
    }
    pairs_.clear();
  }
  int connect_target() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(target_port_));
    ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  // One pass: accept, and copy what is readable between the two ends of each pair.
  void loop() {
    while (!stop_) {
      std::vector<pollfd> fds;
      {
        std::lock_guard lock(mutex_);
        if (listener_ >= 0) fds.push_back({listener_, POLLIN, 0});
        for (const auto& [a, b] : pairs_) {
          fds.push_back({a, POLLIN, 0});
          fds.push_back({b, POLLIN, 0});
        }
      }
      ::poll(fds.data(), fds.size(), 50);
      std::lock_guard lock(mutex_);
      for (const auto& p : fds) {
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        if (p.fd == listener_) {
          const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
          if (client < 0) continue;
          const int server = connect_target();
          if (server < 0) {
            ::close(client);
            continue;
          }
          pairs_.emplace_back(client, server);
          continue;
        }
        relay(p.fd);
      }
    }
  }
  void relay(int from) {
    for (auto it = pairs_.begin(); it != pairs_.end(); ++it) {
      if (it->first != from && it->second != from) continue;
      const int to = it->first == from ? it->second : it->first;
      char buf[65536];
      const ssize_t n = ::read(from, buf, sizeof buf);
      bool ok = n > 0;
      for (ssize_t done = 0; ok && done < n;) {
        const ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
        ok = w > 0;
        done += w;
      }
      if (!ok) {
        ::close(it->first);
        ::close(it->second);
        pairs_.erase(it);
      }
      return;
    }
  }

  std::string host_;
  int target_port_;
  int port_ = 0;
  int listener_ = -1;
  std::vector<std::pair<int, int>> pairs_;
  std::mutex mutex_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A PostgreSQL schema of the test's own, reached through `relay`.
struct PgSchema : runner_test::PgSchema {
  PgSchema() : runner_test::PgSchema("f_") {}
  // The URL with host:port replaced by 127.0.0.1:`port`.
  std::string url_via(int port) const {
    const auto at = base.find('@');
    const auto slash = base.find('/', at);
    REQUIRE((at != std::string::npos && slash != std::string::npos));
    std::string url =
        base.substr(0, at + 1) + "127.0.0.1:" + std::to_string(port) + base.substr(slash);
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
  }
  int target_port() const {
    const auto at = base.find('@');
    const auto colon = base.find(':', at);
    const auto slash = base.find('/', at);
    if (colon == std::string::npos || colon > slash) return 5432;
    return std::atoi(base.substr(colon + 1, slash - colon - 1).c_str());
  }
};

// The id of the one job in the home's store.
std::string only_job(const Home& home) {
  const auto jobs = json_lines(run_cli({"jobs", "--json"}, home.env()).out);
  REQUIRE(jobs.size() == 1);
  return jobs[0]["job_id"];
}

void check_every_line_stored(const std::string& store, const std::string& job, int lines) {
  CHECK(stored_lines(store, job) == expected_lines(lines));
  const json state = show(store, job);
  INFO(state.dump());
  CHECK(state["status"] == "success");
  CHECK_FALSE(state.contains("events_missing"));
}

}  // namespace

TEST_CASE("runner.db locked by another process for 15 s mid-job: every event is stored",
          "[e2e][store][faults][sqlite]") {
  Home home;
  REQUIRE(run_cli({"jobs"}, home.env()).exit_code == 0);  // creates the store
  CliProcess run({"run", ticking_component(40, "0.45"), "--no-color"}, home.env());
  REQUIRE(run.wait_for_output("line 4", std::chrono::seconds(60)));
  {
    SqliteLock lock(home.db());
    std::this_thread::sleep_for(std::chrono::seconds(15));
  }
  INFO(run.out() << run.err());
  REQUIRE(run.wait(std::chrono::seconds(120)) == 0);
  CHECK_THAT(run.err(), !Catch::Contains("warning"));
  check_every_line_stored("sqlite:" + home.db(), job_id_of(run.out()), 40);
}

TEST_CASE("runner.db locked before runner run starts: the job runs at once and is recorded",
          "[e2e][store][faults][sqlite]") {
  Home home;
  REQUIRE(run_cli({"jobs"}, home.env()).exit_code == 0);
  std::optional<SqliteLock> lock;
  lock.emplace(home.db());
  const auto t0 = std::chrono::steady_clock::now();
  CliProcess run({"run", ticking_component(20, "0.5"), "--no-color"}, home.env());
  // No silence while the store is locked: the output flows within a few seconds.
  CHECK(run.wait_for_output("line 2", std::chrono::seconds(8)));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8));
  std::this_thread::sleep_for(std::chrono::seconds(10) - (std::chrono::steady_clock::now() - t0));
  lock.reset();
  INFO(run.out() << run.err());
  REQUIRE(run.wait(std::chrono::seconds(120)) == 0);
  const std::string job = job_id_of(run.out());
  auto jobs = run_cli({"jobs", "--json"}, home.env());
  CHECK_THAT(jobs.out, Catch::Contains(job));
  check_every_line_stored("sqlite:" + home.db(), job, 20);
}

TEST_CASE("PostgreSQL unreachable for 8 s mid-job: every event is stored once, in order",
          "[e2e][store][faults][postgres]") {
  PgSchema pg;
  TcpRelay relay("127.0.0.1", pg.target_port());
  const std::string store = pg.url_via(relay.port());
  Home home;
  CliProcess run({"run", ticking_component(40, "0.4"), "--no-color", "--store", store}, home.env());
  REQUIRE(run.wait_for_output("line 7", std::chrono::seconds(60)));
  relay.cut();
  std::this_thread::sleep_for(std::chrono::seconds(8));
  relay.restore();
  INFO(run.out() << run.err());
  REQUIRE(run.wait(std::chrono::seconds(120)) == 0);
  CHECK_THAT(run.err(), !Catch::Contains("warning"));
  check_every_line_stored(store, job_id_of(run.out()), 40);
}

TEST_CASE("events the store refuses are recorded as missing and --require-store fails the job",
          "[e2e][store][faults][sqlite]") {
  Home home;
  REQUIRE(run_cli({"jobs"}, home.env()).exit_code == 0);
  // The store refuses every block after the job's first events (a trigger of the test's own).
  sqlite_exec(home.db(),
              "CREATE TRIGGER refuse BEFORE INSERT ON event_blocks WHEN NEW.last_sequence > 6 "
              "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
  const std::string events = (home.path / "events.jsonl").string();
  auto r =
      run_cli({"run", ticking_component(10, "0.3"), "--no-color", "--events", events}, home.env());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);  // the job itself succeeded
  CHECK_THAT(r.err, Catch::Contains("were not stored") && Catch::Contains("refused by the test"));
  const std::string job = job_id_of(r.out);
  const std::string store = "sqlite:" + home.db();
  const json state = show(store, job);
  INFO(state.dump());
  CHECK(state["status"] == "success");
  REQUIRE(state.contains("events_missing"));
  CHECK_FALSE(state["events_missing"]["sequences"].get<std::string>().empty());
  CHECK_THAT(state["events_missing"]["reason"].get<std::string>(),
             Catch::Contains("refused by the test"));
  auto text = run_cli({"show", job, "--store", store});
  CHECK_THAT(text.out, Catch::Contains("Missing     events "));
  auto table = run_cli({"jobs", "--store", store});
  CHECK_THAT(table.out, Catch::Contains("success!"));
  const auto records = runner_test::read_json_lines(events);
  REQUIRE_FALSE(records.empty());
  CHECK(records.back()["kind"] == "result");
  CHECK(records.back()["status"] == "success");
  CHECK_THAT(records.back()["message"].get<std::string>(),
             Catch::Contains("arning: ") && Catch::Contains("were not stored"));

  auto strict =
      run_cli({"run", ticking_component(10, "0.3"), "--no-color", "--require-store"}, home.env());
  INFO(strict.out << strict.err);
  CHECK(strict.exit_code == 74);
  const json failed = show(store, job_id_of(strict.out));
  CHECK(failed["status"] == "error");
  CHECK(failed["exit_code"] == 74);
  CHECK_THAT(failed["message"].get<std::string>(), Catch::Contains("--require-store"));
}

TEST_CASE("kill -9 of runner run: runner gc ends its job as error, the runner died",
          "[e2e][store][faults][sqlite]") {
  Home home;
  CliProcess run({"run", ticking_component(100, "0.5"), "--no-color"}, home.env());
  REQUIRE(run.wait_for_output("line 2", std::chrono::seconds(60)));
  const std::string job = only_job(home);
  run.signal(SIGKILL);
  run.wait(std::chrono::seconds(10));
  const std::string store = "sqlite:" + home.db();
  CHECK(show(store, job)["status"] == "processing");
  // The store's disk reserve of the job (disk_reserve.hpp) outlived the kill; gc gives it back.
  const std::filesystem::path reserve = home.db() + "-reserve-" + job;
  CHECK(std::filesystem::exists(reserve));
  auto gc = run_cli({"gc"}, home.env());
  INFO(gc.out << gc.err);
  CHECK(gc.exit_code == 0);
  CHECK_THAT(gc.out, Catch::Contains("ended job " + job));
  CHECK_THAT(gc.out, Catch::Contains("removed the store's disk reserve of job " + job));
  CHECK_FALSE(std::filesystem::exists(reserve));
  const json state = show(store, job);
  INFO(state.dump());
  CHECK(state["status"] == "error");
  CHECK(state["exit_code"] == 70);
  CHECK_THAT(state["message"].get<std::string>(), Catch::Contains("The runner died"));
  CHECK(state["runner"]["pid"] == run.pid());
  CHECK(runner_test::engine_client()
            .list_containers({"io.runner.job-id=" + job})
            .empty());  // gc removed its container too
}

// A tmpfs of `size` mounted for the test's lifetime (the e2e tests run as root).
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    std::filesystem::create_directories(path);
    const int rc = std::system(
        ("mount -t tmpfs -o size=" + size + ",mode=0755 tmpfs " + path.string()).c_str());
    REQUIRE(rc == 0);
  }
  ~SmallDisk() {
    (void)std::system(("umount -l " + path.string()).c_str());
    std::filesystem::remove_all(path);
  }
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / unique_name("runner-small-disk-");
};

TEST_CASE("RUNNER_HOME on a full 2 MB disk: the loss is recorded and said, the job succeeds",
          "[e2e][store][faults][sqlite]") {
  SmallDisk disk("2m");
  const std::map<std::string, std::string> env = {{"RUNNER_HOME", disk.path.string()},
                                                  {"RUNNER_STORE", ""}};
  // 200,000 lines of base64 of random bytes (~15 MB): no compression makes them fit in 2 MB.
  const std::string component =
      temp_file(json({{"id", "test.full"},
                      {"image", kImage},
                      {"command", {"sh", "-c", "head -c 11550000 /dev/urandom | base64"}}})
                    .dump());
  auto r = run_cli({"run", component, "--no-color"}, env);
  INFO(r.err.substr(0, 2000));
  CHECK(r.exit_code == 0);  // the component itself succeeded
  CHECK_THAT(r.err, Catch::Contains("were not stored") && Catch::Contains("full"));
  const std::string job = job_id_of(r.out);
  const std::string store = "sqlite:" + (disk.path / "runner.db").string();
  const json state = show(store, job);
  INFO(state.dump().substr(0, 2000));
  CHECK(state["status"] == "success");  // recorded as finished, not left processing
  REQUIRE(state.contains("events_missing"));
  CHECK_THAT(state["events_missing"]["reason"].get<std::string>(), Catch::Contains("full"));
  CHECK_THAT(state["message"].get<std::string>(), Catch::Contains("were not stored"));
  auto table = run_cli({"jobs", "--store", store});
  CHECK_THAT(table.out, Catch::Contains("success!"));
  // What was stored reads back, in order, each event once.
  auto logs = run_cli({"logs", job, "--store", store, "--json"});
  CHECK(logs.exit_code == 0);
  std::uint64_t previous = 0;
  for (const auto& e : json_lines(logs.out)) {
    CHECK(e["seq"].get<std::uint64_t>() > previous);
    previous = e["seq"].get<std::uint64_t>();
  }
  // A -wal left behind holds committed pages (docs/store.md): the store still opens and reads.
  CHECK(run_cli({"jobs", "--store", store}).exit_code == 0);
}

TEST_CASE("a store locked longer than RUNNER_STORE_RETRY_SECONDS: the loss is recorded",
          "[e2e][store][faults][sqlite]") {
  Home home;
  REQUIRE(run_cli({"jobs"}, home.env()).exit_code == 0);
  auto env = home.env();
  env["RUNNER_STORE_RETRY_SECONDS"] = "2";
  CliProcess run({"run", ticking_component(24, "0.5"), "--no-color"}, env);
  REQUIRE(run.wait_for_output("line 3", std::chrono::seconds(60)));
  {
    SqliteLock lock(home.db());
    std::this_thread::sleep_for(std::chrono::seconds(6));
  }
  INFO(run.out() << run.err());
  REQUIRE(run.wait(std::chrono::seconds(120)) == 0);
  CHECK_THAT(run.err(), Catch::Contains("were not stored") &&
                            Catch::Contains("for more than 2 s (RUNNER_STORE_RETRY_SECONDS)"));
  const std::string store = "sqlite:" + home.db();
  const json state = show(store, job_id_of(run.out()));
  INFO(state.dump());
  CHECK(state["status"] == "success");
  REQUIRE(state.contains("events_missing"));
  CHECK_THAT(state["events_missing"]["reason"].get<std::string>(),
             Catch::Contains("RUNNER_STORE_RETRY_SECONDS"));
  // The lines before the lock were stored.
  const auto lines = stored_lines(store, job_id_of(run.out()));
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0] == "line 1");
}

TEST_CASE("a spool past RUNNER_SPOOL_MAX_BYTES: the loss is recorded, the rest stored",
          "[e2e][store][faults][sqlite]") {
  Home home;
  REQUIRE(run_cli({"jobs"}, home.env()).exit_code == 0);
  auto env = home.env();
  env["RUNNER_SPOOL_MAX_BYTES"] = "64K";
  // "line 1" once, then 400,000 lines at full speed once the test holds the lock.
  const std::string component = temp_file(
      json({{"id", "test.spool"},
            {"image", kImage},
            {"command",
             {"sh", "-c", "echo 'line 1'; sleep 3; yes 'a flood line' | head -n 400000"}}})
          .dump());
  CliProcess run({"run", component, "--no-color"}, env);
  REQUIRE(run.wait_for_output("line 1", std::chrono::seconds(60)));
  {
    SqliteLock lock(home.db());
    REQUIRE(run.wait_for_output("a flood line", std::chrono::seconds(60)));
    std::this_thread::sleep_for(std::chrono::seconds(8));  // memory full, then the spool
  }
  INFO(run.err());
  REQUIRE(run.wait(std::chrono::seconds(180)) == 0);
  CHECK_THAT(run.err(),
             Catch::Contains("were not stored") && Catch::Contains("is full (65536 bytes"));
  const std::string store = "sqlite:" + home.db();
  const std::string job = job_id_of(run.out());
  const json state = show(store, job);
  INFO(state.dump());
  REQUIRE(state.contains("events_missing"));
  CHECK_THAT(state["events_missing"]["reason"].get<std::string>(),
             Catch::Contains("RUNNER_SPOOL_MAX_BYTES"));
  // Stored: the first line and more than the spool alone could hold; missing: the rest.
  const auto lines = stored_lines(store, job);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0] == "line 1");
  CHECK(lines.size() < 400001);
  CHECK_FALSE(std::filesystem::exists(home.path / "spool" / (job + ".spool")));
}

TEST_CASE("kill -9 with events spooled on disk: runner gc stores them and ends the job",
          "[e2e][store][faults][sqlite][spool]") {
  Home home;
  REQUIRE(run_cli({"jobs"}, home.env()).exit_code == 0);
  // "line 1", then 1,000,000 numbers at full speed once the test holds the lock, then a wait.
  const std::string component = temp_file(
      json({{"id", "test.spool-kill"},
            {"image", kImage},
            {"command", {"sh", "-c", "echo 'line 1'; sleep 3; seq 1 1000000; sleep 300"}}})
          .dump());
  CliProcess run({"run", component, "--no-color"}, home.env());
  REQUIRE(run.wait_for_output("line 1", std::chrono::seconds(60)));
  const std::string store = "sqlite:" + home.db();
  const std::string job = only_job(home);
  const auto spool = home.path / "spool" / (job + ".spool");
  // "line 1" is stored before the lock (the writer commits within 100 ms).
  for (int i = 0; i < 50 && stored_lines(store, job).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    SqliteLock lock(home.db());
    REQUIRE(run.wait_for_output("1000000", std::chrono::seconds(60)));
    std::this_thread::sleep_for(std::chrono::seconds(4));  // memory full, then the spool
    REQUIRE(std::filesystem::exists(spool));
    REQUIRE(std::filesystem::file_size(spool) > 0);
    run.signal(SIGKILL);
    run.wait(std::chrono::seconds(10));
  }
  auto gc = run_cli({"gc"}, home.env());
  INFO(gc.out << gc.err);
  CHECK(gc.exit_code == 0);
  CHECK_THAT(gc.out, Catch::Contains("stored the events job " + job + " had spooled on disk"));
  CHECK_THAT(gc.out, Catch::Contains("ended job " + job));
  CHECK_FALSE(std::filesystem::exists(spool));
  // The spooled events are stored, each once (stored_lines checks), up to the last number; what
  // was in the killed runner's memory is not (the record says up to where events were stored).
  const auto lines = stored_lines(store, job);
  REQUIRE(lines.size() > 1);
  CHECK(lines.front() == "line 1");
  CHECK(lines.back() == "1000000");
  const json state = show(store, job);
  INFO(state.dump());
  CHECK(state["status"] == "error");
  CHECK_THAT(state["message"].get<std::string>(), Catch::Contains("The runner died"));
  CHECK(state["events_stored"].get<std::uint64_t>() >= 1000001);
  // The blocks in the killed runner's memory (between "line 1" and the spool) are named lost.
  const auto events = json_lines(run_cli({"logs", job, "--store", store, "--json"}).out);
  std::size_t at = 0;
  while (at + 1 < events.size() && events[at]["message"] != "line 1") ++at;
  REQUIRE(at + 1 < events.size());
  const auto after_line_1 = events[at]["seq"].get<std::uint64_t>() + 1;
  const auto first_spooled = events[at + 1]["seq"].get<std::uint64_t>();
  REQUIRE(first_spooled > after_line_1);
  REQUIRE(state.contains("events_missing"));
  CHECK(state["events_missing"]["sequences"] ==
        std::to_string(after_line_1) + "-" + std::to_string(first_spooled - 1));
  CHECK_THAT(state["events_missing"]["reason"].get<std::string>(),
             Catch::Contains("held in the memory of the runner"));
}

TEST_CASE("kill -9 of a job the locked store never recorded: runner gc records and ends it",
          "[e2e][store][faults][sqlite][spool]") {
  Home home;
  REQUIRE(run_cli({"jobs"}, home.env()).exit_code == 0);
  const std::string component =
      temp_file(json({{"id", "test.spool-unrecorded"},
                      {"image", kImage},
                      {"command", {"sh", "-c", "seq 1 1000000; sleep 300"}}})
                    .dump());
  const std::string store = "sqlite:" + home.db();
  std::string job;
  {
    // Locked before the job starts: the job row, like the events, waits for the store.
    SqliteLock lock(home.db());
    CliProcess run({"run", component, "--no-color"}, home.env());
    REQUIRE(run.wait_for_output("1000000", std::chrono::seconds(60)));
    // Memory full, then the spool, with the job's record next to it (the id is in its name: the
    // terminal shows the id only in the summary).
    const auto record_in_spool = [&]() -> std::optional<std::filesystem::path> {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(home.path / "spool", ec))
        if (e.path().extension() == ".job") return e.path();
      return std::nullopt;
    };
    for (int i = 0; i < 100 && !record_in_spool(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto record = record_in_spool();
    REQUIRE(record);
    job = record->stem().string();
    REQUIRE(std::filesystem::exists(home.path / "spool" / (job + ".spool")));
    run.signal(SIGKILL);
    run.wait(std::chrono::seconds(10));
  }
  CHECK(json_lines(run_cli({"jobs", "--json"}, home.env()).out).empty());  // nothing knew it
  auto gc = run_cli({"gc"}, home.env());
  INFO(gc.out << gc.err);
  CHECK(gc.exit_code == 0);
  CHECK_THAT(gc.out, Catch::Contains("recorded job " + job));
  CHECK_THAT(gc.out, Catch::Contains("stored the events job " + job + " had spooled on disk"));
  CHECK_THAT(gc.out, Catch::Contains("ended job " + job));
  CHECK(std::filesystem::is_empty(home.path / "spool"));
  const auto lines = stored_lines(store, job);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back() == "1000000");
  const json state = show(store, job);
  INFO(state.dump());
  CHECK(state["status"] == "error");
  CHECK(state["component_id"] == "test.spool-unrecorded");
  CHECK_THAT(state["message"].get<std::string>(), Catch::Contains("The runner died"));
  // The first events were in the killed runner's memory: the record names them as lost.
  const auto events = json_lines(run_cli({"logs", job, "--store", store, "--json"}).out);
  REQUIRE_FALSE(events.empty());
  const auto first_stored = events.front()["seq"].get<std::uint64_t>();
  REQUIRE(first_stored > 1);
  REQUIRE(state.contains("events_missing"));
  CHECK(state["events_missing"]["sequences"] == "1-" + std::to_string(first_stored - 1));
  CHECK_THAT(state["events_missing"]["reason"].get<std::string>(),
             Catch::Contains("held in the memory of the runner"));
  // A second gc finds nothing left to do for it.
  auto again = run_cli({"gc"}, home.env());
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, !Catch::Contains(job));
}

TEST_CASE("bad RUNNER_STORE_RETRY_SECONDS or RUNNER_SPOOL_MAX_BYTES: exit 64 naming it",
          "[e2e][store][faults][sqlite]") {
  Home home;
  const std::string component = ticking_component(1, "0");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"RUNNER_STORE_RETRY_SECONDS", "5m"},
      {"RUNNER_STORE_RETRY_SECONDS", "-1"},
      {"RUNNER_STORE_RETRY_SECONDS", "9999999"},
      {"RUNNER_SPOOL_MAX_BYTES", "1T"},
      {"RUNNER_SPOOL_MAX_BYTES", "lots"},
      {"RUNNER_SPOOL_MAX_BYTES", "99999999999999999999"}};
  for (const auto& [name, value] : bad) {
    auto env = home.env();
    env[name] = value;
    auto r = run_cli({"run", component, "--no-color"}, env);
    INFO(name << "=" << value << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK_THAT(r.err, Catch::Contains(name));
    CliProcess worker({"worker", "--max-jobs", "1"}, env);
    CHECK(worker.wait(std::chrono::seconds(30)) == 64);  // at start, not at its first job
    INFO(worker.err());
    CHECK_THAT(worker.err(), Catch::Contains(name));
  }
  auto env = home.env();
  env["RUNNER_STORE_RETRY_SECONDS"] = "0";
  env["RUNNER_SPOOL_MAX_BYTES"] = "0";
  CHECK(run_cli({"run", component, "--no-color"}, env).exit_code == 0);
}

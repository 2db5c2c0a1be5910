// Tests of the syslog exporter against a real rsyslogd (Debian's rsyslog): the test starts its
// own instance, not the system's, with a private configuration in a temporary folder (imtcp on
// a free loopback port, an omfile action whose template writes PRI, severity, facility,
// HOSTNAME, APP-NAME, PROCID, MSGID, TIMESTAMP, STRUCTURED-DATA and MSG of every message it
// parsed), and stops it at the end. What rsyslog parsed is what a syslog server understood:
// octet-counted framing, the RFC 5424 header, structured-data escaping of '"', '\' and ']'.
#include <catch2/catch.hpp>
#include "cli_process.hpp"
#include "exporter_test_support.hpp"

#include "secrets/config_cipher.hpp"  // KeyLookup needs the complete EncryptionKey
#include "shipper/log_exporter.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;
using runner::logging::Level;
using runner::shipper::ExportError;
using runner::shipper::KeyLookup;
using runner::shipper::make_exporter;
using runner::shipper::ShippedEvent;
using namespace std::chrono_literals;

namespace {

constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";

using runner_test::kNoKey;

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// One parsed message as the omfile template wrote it.
struct Received {
  std::string pri, severity, facility, hostname, app_name, procid, msgid, timestamp,
      structured_data, msg;
};

// A private rsyslogd: its own config, pid file, work folder and output file; killed at the end.
class Rsyslog {
 public:
  Rsyslog() {
    std::string pattern = (fs::temp_directory_path() / "runner-rsyslog-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    port_ = runner_test::unused_tcp_port();
    out_ = dir_ / "received.log";
    // Fields separated by '|' with MSG last (the test's values hold no '|' before MSG).
    std::ofstream(dir_ / "rsyslog.conf")
        << "global(workDirectory=\"" << dir_.string() << "\" maxMessageSize=\"256k\")\n"
        << "module(load=\"imtcp\")\n"
        << "template(name=\"fields\" type=\"string\" string=\"%pri%|%syslogseverity%|"
           "%syslogfacility%|%hostname%|%app-name%|%procid%|%msgid%|"
           "%timereported:::date-rfc3339%|%structured-data%|%msg%\\n\")\n"
        << "ruleset(name=\"exporter\") { action(type=\"omfile\" file=\"" << out_.string()
        << "\" template=\"fields\") }\n"
        << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port_
        << "\" ruleset=\"exporter\")\n";
    start();
  }
  ~Rsyslog() {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Rsyslog(const Rsyslog&) = delete;
  Rsyslog& operator=(const Rsyslog&) = delete;

  std::uint16_t port() const { return port_; }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Waits until `count` messages were written (rsyslog writes each action batch at once).
  std::vector<Received> wait_for(std::size_t count) const {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::vector<Received> messages = received();
    while (messages.size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      messages = received();
    }
    INFO("rsyslog wrote:\n"
         << read_text(out_) << "rsyslog said:\n"
         << read_text(dir_ / "rsyslogd.out"));
    REQUIRE(messages.size() >= count);
    return messages;
  }

 private:
  void start() {
    const std::vector<std::string> args = {kRsyslogd,
                                           "-n",
                                           "-C",
                                           "-f",
                                           (dir_ / "rsyslog.conf").string(),
                                           "-i",
                                           (dir_ / "rsyslogd.pid").string()};
    std::vector<char*> argv;
    std::vector<std::string> store = args;
    for (auto& a : store) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = (dir_ / "rsyslogd.out").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, kRsyslogd, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!accepts_connections(port_) && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("rsyslogd exited: " << read_text(log));
      }
      std::this_thread::sleep_for(20ms);
    }
    INFO("rsyslogd said: " << read_text(log));
    REQUIRE(accepts_connections(port_));
  }

  std::vector<Received> received() const {
    std::vector<Received> out;
    std::istringstream in(read_text(out_));
    std::string line;
    while (std::getline(in, line)) {
      Received r;
      std::string* parts[] = {&r.pri,    &r.severity, &r.facility,  &r.hostname,       &r.app_name,
                              &r.procid, &r.msgid,    &r.timestamp, &r.structured_data};
      std::size_t at = 0;
      for (std::string* part : parts) {
        const std::size_t bar = line.find('|', at);
        if (bar == std::string::npos) break;
        *part = line.substr(at, bar - at);
        at = bar + 1;
      }
      r.msg = line.substr(at);
      out.push_back(r);
    }
    return out;
  }

  fs::path dir_;
  fs::path out_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

ShippedEvent event(std::uint64_t sequence, std::string message, Level level,
                   std::string source = "stdout", std::string ns = "team.data",
                   std::string fields = "") {
  return runner_test::shipped_event(sequence, std::move(message), level, std::move(fields),
                                    std::move(source), "0190c2a4-job-s", std::move(ns));
}

}  // namespace

TEST_CASE("syslog exporter sends RFC 5424 messages that rsyslog parses", "[shipper][exporter]") {
  Rsyslog rsyslog;
  auto exporter = make_exporter({{"id", "siem"},
                                 {"type", "syslog"},
                                 {"host", "127.0.0.1"},
                                 {"port", rsyslog.port()},
                                 {"appName", "runner-test"},
                                 {"facility", "local3"},
                                 {"sourceHost", "worker-7"}},
                                "logExporters[0]", kNoKey);
  const std::vector<ShippedEvent> batch = {
      event(1, "job started", Level::info),
      event(2, "disk almost full \xc3\xa9", Level::warning, "stderr"),
      event(3, "failed: see above", Level::error, "runner", R"(we"ird\ns]x)",
            R"({"table":"in.c-main.x]","rows":5})"),
      event(4, "line one\nline two", Level::emergency, "a source with spaces"),
      event(5, "", Level::debug),
  };
  exporter->send(batch);
  exporter->send({event(6, "second batch", Level::notice)});
  const auto messages = rsyslog.wait_for(6);
  REQUIRE(messages.size() == 6);

  const std::vector<int> severities = {6, 4, 3, 0, 7, 5};
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Received& m = messages[i];
    INFO("message " << i + 1 << ": " << m.structured_data << " | " << m.msg);
    CHECK(m.severity == std::to_string(severities[i]));
    CHECK(m.facility == "19");  // local3
    CHECK(m.pri == std::to_string(19 * 8 + severities[i]));
    CHECK(m.hostname == "worker-7");
    CHECK(m.app_name == "runner-test");
    CHECK(m.procid == "-");
    CHECK(m.timestamp ==
          "2025-11-21T11:54:14.00" + std::to_string(i + 1) + "007Z");  // microseconds kept
  }
  CHECK(messages[0].msgid == "stdout");
  CHECK(messages[1].msgid == "stderr");
  CHECK(messages[3].msgid == "a_source_with_spaces");

  CHECK(messages[0].structured_data ==
        R"([runner@32473 id="0190c2a4-job-s-000000000001" job="0190c2a4-job-s" )"
        R"(namespace="team.data" component="keboola.ex-db" sequence="1"])");
  CHECK(messages[0].msg == "job started");
  CHECK(messages[1].msg == "disk almost full \xc3\xa9");
  // '"', '\' and ']' escaped inside parameter values, the fields as JSON.
  CHECK(messages[2].structured_data ==
        R"([runner@32473 id="0190c2a4-job-s-000000000003" job="0190c2a4-job-s" )"
        R"(namespace="we\"ird\\ns\]x" component="keboola.ex-db" sequence="3" )"
        R"(fields="{\"rows\":5,\"table\":\"in.c-main.x\]\"}"])");
  CHECK(messages[2].msg == "failed: see above");
  // rsyslog shows a received newline as #012 (its control character escaping).
  CHECK(messages[3].msg == "line one#012line two");
  CHECK(messages[4].msg == "");
  CHECK(messages[5].msg == "second batch");
}

TEST_CASE("syslog exporter reports a receiver that is gone as ExportError", "[shipper][exporter]") {
  Rsyslog rsyslog;
  auto exporter = make_exporter(
      {{"id", "siem"}, {"type", "syslog"}, {"host", "127.0.0.1"}, {"port", rsyslog.port()}},
      "logExporters[4]", kNoKey);
  exporter->send({event(1, "before", Level::info)});
  const auto messages = rsyslog.wait_for(1);
  CHECK(messages[0].facility == "1");  // user, the default
  CHECK(messages[0].app_name == "runner");
  rsyslog.stop();
  try {
    // The kept connection was closed by rsyslog; reconnecting is refused.
    exporter->send({event(2, "after", Level::info)});
    FAIL("no ExportError");
  } catch (const ExportError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("syslog exporter \"siem\"") != std::string::npos);
    CHECK(message.find("127.0.0.1:" + std::to_string(rsyslog.port())) != std::string::npos);
  }
}

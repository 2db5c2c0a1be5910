// End-to-end: the GELF server's cap of 1,024 TCP connections (docs/gelf.md: a new one beyond
// closes the one that has waited longest, counted as dropped), against `runner gelf-server` run as
// a process with the open-file limits a Debian machine gives: a soft limit of 1,024 (what a login
// shell and a systemd service get) under a higher hard limit, and a hard limit of 1,024 that cannot
// be raised. Either way every connection is served or dropped and counted, the server keeps
// serving, and a freed slot takes a new connection.
#include "cli_process.hpp"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

using nlohmann::json;

namespace {

using namespace std::chrono_literals;

constexpr int kCap = 1024;
constexpr int kClients = kCap + 6;

// `runner gelf-server --transport tcp` with RLIMIT_NOFILE set to `limit` in the child only
// (fork, setrlimit, exec: only async-signal-safe calls between fork and exec), its stderr and
// events in files.
class GelfServer {
 public:
  explicit GelfServer(rlimit limit) {
    std::vector<std::string> args = {RUNNER_BIN, "gelf-server", "--transport", "tcp",
                                     "--events", events_,       "--no-color"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setrlimit(RLIMIT_NOFILE, &limit);
      const int err = ::open(err_.c_str(), O_WRONLY | O_TRUNC);
      const int null = ::open("/dev/null", O_RDWR);
      if (err < 0 || null < 0) ::_exit(127);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(err, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const std::string prefix = "Listening for GELF over tcp on 127.0.0.1:";
    for (int i = 0; i < 500 && port == 0; ++i) {
      const std::string err = runner_test::read_file(err_);
      const auto at = err.find(prefix);
      const auto end = at == std::string::npos ? at : err.find('\n', at);
      if (end != std::string::npos)
        port = static_cast<std::uint16_t>(std::stoul(err.substr(at + prefix.size())));
      else
        std::this_thread::sleep_for(20ms);
    }
    REQUIRE(port != 0);
  }
  ~GelfServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove(events_);
    std::filesystem::remove(err_);
  }
  GelfServer(const GelfServer&) = delete;
  GelfServer& operator=(const GelfServer&) = delete;

  std::uint16_t port = 0;

  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& e : runner_test::complete_json_lines(events_))
      if (e["source"] == "gelf") out.push_back(e["message"]);
    return out;
  }
  bool received(const std::string& message) const {
    for (int i = 0; i < 250; ++i) {
      for (const auto& m : messages())
        if (m == message) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // Stops it (SIGTERM: it drains, at most 2 s) and returns its counters.
  json stop() {
    ::kill(pid_, SIGTERM);
    int status = -1;
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    INFO(runner_test::read_file(err_));
    REQUIRE(pid_ == -1);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    const auto lines = runner_test::complete_json_lines(events_);
    REQUIRE_FALSE(lines.empty());
    return lines.back()["fields"];
  }

 private:
  std::string events_ = runner_test::temp_file("", ".jsonl");
  std::string err_ = runner_test::temp_file("", ".err");
  pid_t pid_ = -1;
};

// `n` connections to 127.0.0.1:port, made at once (non-blocking), each -1 if it was not
// established within 10 s (a server that accepts nothing leaves the kernel's backlog full).
std::vector<int> connect_all(std::uint16_t port, int n) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
    REQUIRE((rc == 0 || errno == EINPROGRESS));
    fds.push_back(fd);
  }
  std::vector<bool> done(fds.size(), false);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (std::size_t left = fds.size(); left > 0 && std::chrono::steady_clock::now() < deadline;) {
    std::vector<pollfd> pending;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (!done[i]) {
        pending.push_back({fds[i], POLLOUT, 0});
        index.push_back(i);
      }
    if (::poll(pending.data(), pending.size(), 200) <= 0) continue;
    for (std::size_t k = 0; k < pending.size(); ++k)
      if (pending[k].revents != 0) {
        done[index[k]] = true;
        --left;
      }
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &error, &size);
    if (!done[i] || error != 0) {
      ::close(fds[i]);
      fds[i] = -1;
    } else {
      ::fcntl(fds[i], F_SETFL, ::fcntl(fds[i], F_GETFL) & ~O_NONBLOCK);
    }
  }
  return fds;
}

// Which of `fds` the server has closed (EOF or reset), once that number stops growing for 1 s.
std::vector<bool> closed_by_server(const std::vector<int>& fds) {
  std::vector<bool> closed(fds.size(), false);
  std::size_t count = 0;
  auto stable_since = std::chrono::steady_clock::now();
  const auto deadline = stable_since + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i] < 0 || closed[i]) continue;
      pollfd pfd{fds[i], POLLIN, 0};
      char byte;
      if (::poll(&pfd, 1, 0) > 0 && ::recv(fds[i], &byte, 1, MSG_DONTWAIT) <= 0) closed[i] = true;
    }
    const auto now_closed =
        static_cast<std::size_t>(std::count(closed.begin(), closed.end(), true));
    if (now_closed != count) {
      count = now_closed;
      stable_since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - stable_since > 1s) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  return closed;
}

void send_message(int fd, const std::string& text) {
  const std::string frame =
      R"({"version":"1.1","host":"h","short_message":")" + text + R"("})" + std::string(1, '\0');
  REQUIRE(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(frame.size()));
}

// This process needs a descriptor per client.
void allow_many_descriptors() {
  rlimit mine{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &mine) == 0);
  INFO("the test needs " << kClients + 100 << " open files; the hard limit is " << mine.rlim_max);
  REQUIRE(mine.rlim_max >= static_cast<rlim_t>(kClients + 100));
  mine.rlim_cur = mine.rlim_max;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &mine) == 0);
}

struct Clients {
  std::vector<int> fds;
  ~Clients() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST_CASE("gelf-server: 1,024 TCP connections at most, the longest waiting shed and counted",
          "[e2e][gelf][limits]") {
  allow_many_descriptors();
  rlimit mine{};
  ::getrlimit(RLIMIT_NOFILE, &mine);
  GelfServer server(rlimit{1024, mine.rlim_max});  // Debian's default soft limit
  Clients clients;
  clients.fds = connect_all(server.port, kClients);
  for (int i = 0; i < kClients; ++i) {
    INFO("client " << i);
    REQUIRE(clients.fds[i] >= 0);
  }
  // Each connection past the cap closes the one that waited longest (the first ones, which sent
  // nothing); the newest are served.
  const auto closed = closed_by_server(clients.fds);
  CHECK(std::count(closed.begin(), closed.end(), true) == kClients - kCap);
  for (int i = 0; i < kClients - kCap; ++i) CHECK(closed[i]);
  send_message(clients.fds[kClients - 1], "from the last one admitted");
  CHECK(server.received("from the last one admitted"));
  // A freed slot takes a new connection without shedding another.
  for (int i = kClients - kCap; i < kClients - kCap + 10; ++i) {
    ::close(clients.fds[i]);
    clients.fds[i] = -1;
  }
  std::this_thread::sleep_for(1s);  // the server notices the closes
  const int late = connect_all(server.port, 1)[0];
  REQUIRE(late >= 0);
  clients.fds.push_back(late);
  send_message(late, "after a slot was freed");
  CHECK(server.received("after a slot was freed"));
  const json counters = server.stop();
  INFO(counters.dump());
  CHECK(counters["connections"] == kClients + 1);
  CHECK(counters["dropped"] == kClients - kCap);
  CHECK(counters["received"] == 2);
}

TEST_CASE("gelf-server: with fewer descriptors than connections, the excess is shed too",
          "[e2e][gelf][limits]") {
  allow_many_descriptors();
  GelfServer server(rlimit{1024, 1024});  // a hard limit the server cannot raise
  Clients clients;
  clients.fds = connect_all(server.port, kClients);
  CHECK(std::count(clients.fds.begin(), clients.fds.end(), -1) == 0);  // none left waiting
  const auto closed = closed_by_server(clients.fds);
  const auto dropped = std::count(closed.begin(), closed.end(), true);
  CHECK(dropped >= kClients - kCap);
  CHECK_FALSE(closed.back());  // the newest is held
  send_message(clients.fds.back(), "still serving");
  CHECK(server.received("still serving"));
  const json counters = server.stop();
  INFO(counters.dump());
  // Every client closed by the server is counted once as dropped; every other one was accepted.
  CHECK(counters["dropped"].get<int>() == dropped);
  CHECK(counters["connections"].get<int>() <= kClients);
  CHECK(counters["connections"].get<int>() >= kClients - dropped);
  CHECK(counters["received"] == 1);
}

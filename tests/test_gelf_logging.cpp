// GelfJobServer, the GELF server a job in GELF mode hosts: malformed UDP chunk sets are counted
// in the job's GELF counters (they used to vanish there; the standalone server counted them);
// the drain after the container exited (docs/gelf.md): UDP until 1 s of quiet, TCP until the
// clients close, both at most 5 s. Real UDP datagrams and TCP connections on 127.0.0.1, no
// Docker. The drain tests send from a thread of their own while finish() runs on the test's,
// and judge by what was received against the sender's schedule, not by stopwatch.
#include "runner/gelf_logging.hpp"

#include "logging/callback_sink.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <optional>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string chunk(std::uint64_t id, unsigned seq, unsigned count, const std::string& slice) {
  std::string d = "\x1e\x0f";
  for (int i = 7; i >= 0; --i) d += static_cast<char>((id >> (8 * i)) & 0xff);
  d += static_cast<char>(seq);
  d += static_cast<char>(count);
  return d + slice;
}

void send_udp(std::uint16_t port, const std::vector<std::string>& datagrams) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (const auto& d : datagrams)
    REQUIRE(::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
            static_cast<ssize_t>(d.size()));
  ::close(fd);
}

}  // namespace

TEST_CASE("malformed UDP chunk sets are counted in the job's GELF counters",
          "[runner][gelf][chunks]") {
  runner::LoggingSettings settings;
  settings.type = "gelf";
  settings.gelf_server_type = "udp";
  runner::logging::EventLog events("job-1");
  std::vector<runner::logging::OwnedEvent> seen;
  runner::logging::CallbackSink sink(
      {.on_event = [&](runner::logging::OwnedEvent e) { seen.push_back(std::move(e)); }});
  events.add_sink(sink);
  {
    runner::GelfJobServer server(settings, events);
    server.listen("127.0.0.1");
    send_udp(server.port(),
             {
                 chunk(1, 0, 129, "{}"),                       // more than 128 chunks
                 chunk(2, 0, 0, "{}"),                         // count 0
                 chunk(3, 5, 3, "{}"),                         // sequence >= count
                 chunk(4, 0, 2, R"({"short_message":)"),       // count 2 ...
                 chunk(4, 1, 3, R"("x"})"),                    // ... then 3: a mismatch
                 chunk(5, 0, 1, R"({"short_message":"ok"})"),  // a good one-chunk message
             });
    for (int i = 0; i < 50; ++i) {
      server.poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    server.finish();
  }
  const runner::logging::OwnedEvent* counters = nullptr;
  for (const auto& e : seen)
    if (e.source == "runner" && e.message.starts_with("GELF server")) counters = &e;
  REQUIRE(counters != nullptr);
  INFO(counters->message << " " << counters->fields.dump());
  CHECK(counters->fields["received"] == 1);
  CHECK(counters->fields["chunks_completed"] == 1);
  CHECK(counters->fields["chunks_rejected"].get<int>() >= 4);
  // Something was lost: a warning naming the counter (its value only in the fields).
  CHECK(counters->level == runner::logging::Level::warning);
  CHECK_THAT(counters->message, Catch::Contains("not logged (chunks_rejected)"));
}

namespace {

std::string gelf(const std::string& text) {
  return R"({"version":"1.1","host":"h","short_message":")" + text + R"(","level":6})";
}

struct JobGelf {
  runner::logging::EventLog events{"job-drain"};
  std::vector<runner::logging::OwnedEvent> seen;
  runner::logging::CallbackSink sink{
      {.on_event = [this](runner::logging::OwnedEvent e) { seen.push_back(std::move(e)); }}};
  std::optional<runner::GelfJobServer> server;

  explicit JobGelf(const std::string& transport) {
    events.add_sink(sink);
    runner::LoggingSettings settings;
    settings.type = "gelf";
    settings.gelf_server_type = transport;
    server.emplace(settings, events);
    server->listen("127.0.0.1");
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& e : seen)
      if (e.source == "gelf") out.push_back(e.message);
    return out;
  }
};

int tcp_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  return fd;
}

void send_frame(int fd, const std::string& message) {
  const std::string frame = message + '\0';
  REQUIRE(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(frame.size()));
}

}  // namespace

TEST_CASE("after the exit, UDP is read until 1 s of quiet", "[runner][gelf][drain]") {
  JobGelf job("udp");
  const std::uint16_t port = job.server->port();
  // Two datagrams 0.7 s apart while finish() drains, then one more 2.8 s after the second: by
  // then the second has been followed by more than 1 s of quiet, so the drain is over.
  std::thread sender([port] {
    send_udp(port, {gelf("first")});
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    send_udp(port, {gelf("second")});
    std::this_thread::sleep_for(std::chrono::milliseconds(2800));
    send_udp(port, {gelf("too late")});
  });
  job.server->finish();
  sender.join();
  CHECK(job.messages() == std::vector<std::string>{"first", "second"});
}

TEST_CASE("after the exit, UDP that never goes quiet is read for at most 5 s",
          "[runner][gelf][drain]") {
  JobGelf job("udp");
  const std::uint16_t port = job.server->port();
  std::atomic<bool> finished{false};
  std::atomic<int> sent{0};
  // A datagram every 250 ms for up to 10 s: never 1 s of quiet.
  std::thread sender([&] {
    for (int i = 0; i < 40 && !finished; ++i) {
      send_udp(port, {gelf("tick " + std::to_string(i))});
      ++sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  job.server->finish();
  const int sent_when_done = sent;
  finished = true;
  sender.join();
  const auto received = job.messages().size();
  CHECK(sent_when_done < 40);  // finish() did not wait for the sender to go quiet
  CHECK(received >= 8);        // it read on well past 1 s (8 datagrams take 1.75 s to send)
  CHECK(received <= static_cast<std::size_t>(sent_when_done));
}

TEST_CASE("after the exit, TCP is read until the clients close, at most 5 s",
          "[runner][gelf][drain]") {
  JobGelf job("tcp");
  const std::uint16_t port = job.server->port();
  // Client A says one more thing 1.5 s into the drain and closes; client B never closes and
  // keeps sending.
  const int a = tcp_connect(port);
  const int b = tcp_connect(port);
  send_frame(a, gelf("a1"));
  std::atomic<bool> finished{false};
  std::atomic<int> b_sent{0};
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    send_frame(a, gelf("a2"));
    ::close(a);
  });
  std::thread talker([&] {
    for (int i = 0; i < 40 && !finished; ++i) {
      const std::string frame = gelf("b" + std::to_string(i)) + '\0';
      if (::send(b, frame.data(), frame.size(), MSG_NOSIGNAL) <= 0) break;
      ++b_sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  job.server->finish();
  const int b_sent_when_done = b_sent;
  finished = true;
  closer.join();
  talker.join();
  ::close(b);
  const auto messages = job.messages();
  auto has = [&](const std::string& m) {
    return std::find(messages.begin(), messages.end(), m) != messages.end();
  };
  CHECK(has("a1"));
  CHECK(has("a2"));              // an open connection is read past 1 s (unlike UDP's quiet rule)
  CHECK(b_sent_when_done < 40);  // a client that never closes does not hold the job
  CHECK(has("b7"));              // read on until the limit: b7 was sent 1.75 s in
}

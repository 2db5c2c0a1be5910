// GelfJobServer, the GELF server a job in GELF mode hosts: malformed UDP chunk sets are counted
// in the job's GELF counters (they used to vanish there; the standalone server counted them).
// Real UDP datagrams on 127.0.0.1, no Docker.
#include "runner/gelf_logging.hpp"

#include "logging/callback_sink.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
  CHECK_THAT(counters->message, Catch::Contains("malformed chunks rejected"));
}

// gelf_sink: runner's GELF server under test. It constructs the library's GelfServer (the same
// code `runner gelf-server` and a job run) on 127.0.0.1 with the given transport and port, only
// that peer allowed as a job allows only its container, and counts what on_message delivers:
// no terminal or event output, so the figure is the server's own cost.
//
// It prints "listening ..." once bound (run.sh waits for that line before starting the load),
// then drives poll_for() until the input has been quiet for --quiet-ms (1 s) after the first
// message, or --max-seconds passed, and prints one "key=value" line: received, unique `_seq`
// numbers seen, invalid, dropped, oversize, datagrams, HTTP requests, the time between the first
// and the last message, messages/s over that time, the UDP receive buffer the kernel granted, and
// the CPU time the process used from the first message on with messages per CPU-second: on a
// shared machine, where the receiver's core is not its own, that is the rate one free core
// would sustain.
//
// Usage: gelf_sink --transport udp|tcp|http --port N [--quiet-ms 1000] [--max-seconds 60]
#include "bench_util.hpp"
#include "logging/gelf/server.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace gelf = runner::logging::gelf;
using bench::Clock;

namespace {

// Which `_seq` numbers arrived, to tell unique messages from duplicates (bounded).
class SeenSet {
 public:
  // Returns true the first time `seq` is seen.
  bool insert(std::uint64_t seq) {
    if (seq >= kMaxTracked) return false;
    if (seq >= seen_.size()) seen_.resize(std::max<std::size_t>(seq + 1, seen_.size() * 2));
    if (seen_[seq]) return false;
    seen_[seq] = true;
    return true;
  }

 private:
  static constexpr std::uint64_t kMaxTracked = std::uint64_t{1} << 28;
  std::vector<bool> seen_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    const std::string transport_name = args.text("--transport", "udp");
    const int port = static_cast<int>(args.number("--port", 0));
    const auto quiet =
        std::chrono::milliseconds(static_cast<long>(args.number("--quiet-ms", 1000)));
    const auto max_time =
        std::chrono::milliseconds(static_cast<long>(args.number("--max-seconds", 60) * 1000));
    const std::optional<gelf::GelfTransport> transport = gelf::parse_gelf_transport(transport_name);
    if (!transport || port <= 0 || port > 65535) {
      std::fprintf(stderr, "usage: gelf_sink --transport udp|tcp|http --port N\n");
      return 2;
    }

    std::uint64_t received = 0;
    std::uint64_t unique = 0;
    SeenSet seen;
    Clock::time_point first{};
    Clock::time_point last{};
    double cpu_at_first = 0;
    gelf::GelfServerCallbacks callbacks;
    callbacks.on_message = [&](const gelf::GelfMessage& message) {
      last = Clock::now();
      if (received++ == 0) {
        first = last;
        cpu_at_first = bench::process_cpu_seconds();
      }
      const auto seq = message.additional.find("seq");
      if (seq != message.additional.end() && seq->is_number_unsigned() &&
          seen.insert(seq->get<std::uint64_t>())) {
        ++unique;
      }
    };
    gelf::GelfServerOptions options;
    options.transport = *transport;
    options.allowed_peer = "127.0.0.1";
    gelf::GelfServer server(std::move(options), std::move(callbacks));
    server.bind("127.0.0.1", static_cast<std::uint16_t>(port));
    std::printf("listening transport=%s port=%u rcvbuf=%zu\n", transport_name.c_str(),
                server.port(), server.udp_receive_buffer_bytes());
    std::fflush(stdout);

    const Clock::time_point start = Clock::now();
    for (;;) {
      server.poll_for(std::chrono::milliseconds(20));
      const Clock::time_point now = Clock::now();
      if (received > 0 && now - last >= quiet) break;
      if (now - start >= max_time) break;
    }
    server.stop();  // counts what is still pending (a final unterminated TCP frame)
    const double cpu = received > 0 ? bench::process_cpu_seconds() - cpu_at_first : 0;
    const gelf::GelfServerCounters counters = server.counters();
    const double elapsed = received > 1 ? bench::seconds_between(first, last) : 0;
    std::printf(
        "sink transport=%s received=%llu unique=%llu invalid=%llu dropped=%llu oversize=%llu "
        "datagrams=%llu http_requests=%llu elapsed_s=%.3f rate=%.0f rcvbuf=%zu cpu_s=%.3f "
        "per_cpu_s=%.0f\n",
        transport_name.c_str(), static_cast<unsigned long long>(counters.received),
        static_cast<unsigned long long>(unique), static_cast<unsigned long long>(counters.invalid),
        static_cast<unsigned long long>(counters.dropped),
        static_cast<unsigned long long>(counters.oversize),
        static_cast<unsigned long long>(counters.udp_datagrams),
        static_cast<unsigned long long>(counters.http_requests), elapsed,
        elapsed > 0 ? static_cast<double>(received) / elapsed : 0,
        server.udp_receive_buffer_bytes(), cpu, cpu > 0 ? static_cast<double>(received) / cpu : 0);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "gelf_sink: %s\n", error.what());
    return 2;
  }
}

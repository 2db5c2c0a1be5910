// recvmmsg_floor: the floor for a UDP GELF server on this machine. A bare recvmmsg loop on a
// UDP socket bound to 127.0.0.1:PORT with the same receive buffer request as GelfServer
// (8 MiB, SO_RCVBUFFORCE when permitted, else SO_RCVBUF capped by net.core.rmem_max), that only
// counts datagrams: no parsing, no decompression. No server can receive faster than this with
// one core, so it says what share of the achievable rate a real server reaches.
//
// Prints "listening ..." once bound, then reads (64 datagrams a call) until the socket has been
// quiet for --quiet-ms (1 s) after the first datagram, or --max-seconds passed, and prints one
// "key=value" line in gelf_sink's format (with its CPU time per message).
//
// Usage: recvmmsg_floor --port N [--quiet-ms 1000] [--max-seconds 60]
#include "bench_util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

using bench::Clock;
using bench::Fd;

int main(int argc, char** argv) {
  try {
    const bench::Args args(argc, argv);
    const int port = static_cast<int>(args.number("--port", 0));
    const auto quiet =
        std::chrono::milliseconds(static_cast<long>(args.number("--quiet-ms", 1000)));
    const auto max_time =
        std::chrono::milliseconds(static_cast<long>(args.number("--max-seconds", 60) * 1000));
    if (port <= 0 || port > 65535) {
      std::fprintf(stderr, "usage: recvmmsg_floor --port N\n");
      return 2;
    }

    Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int requested = 8 * 1024 * 1024;  // GelfServerOptions::udp_receive_buffer_bytes
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &requested, sizeof requested) != 0) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &requested, sizeof requested);
    }
    int granted = 0;
    socklen_t granted_size = sizeof granted;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &granted, &granted_size);
    granted /= 2;  // the kernel reports twice the usable size; Asio (so GelfServer) halves it too
    // A timeout on the blocking receive lets the loop notice the quiet period.
    const timeval tick{0, 20'000};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
    }
    std::printf("listening transport=udp port=%d rcvbuf=%d\n", port, granted);
    std::fflush(stdout);

    constexpr std::size_t kBatch = 64;
    constexpr std::size_t kDatagramBytes = 65536;
    std::vector<char> buffers(kBatch * kDatagramBytes);
    std::vector<iovec> iovecs(kBatch);
    std::vector<mmsghdr> headers(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) {
      iovecs[i] = iovec{buffers.data() + i * kDatagramBytes, kDatagramBytes};
      headers[i].msg_hdr.msg_iov = &iovecs[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }

    std::uint64_t received = 0;
    std::uint64_t bytes = 0;
    Clock::time_point first{};
    Clock::time_point last{};
    double cpu_at_first = 0;
    const Clock::time_point start = Clock::now();
    for (;;) {
      const int got = ::recvmmsg(fd.get(), headers.data(), kBatch, MSG_WAITFORONE, nullptr);
      const Clock::time_point now = Clock::now();
      if (got > 0) {
        if (received == 0) {
          first = now;
          cpu_at_first = bench::process_cpu_seconds();
        }
        last = now;
        received += static_cast<std::uint64_t>(got);
        for (int i = 0; i < got; ++i) bytes += headers[static_cast<std::size_t>(i)].msg_len;
      } else if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        throw std::runtime_error(std::string("recvmmsg: ") + std::strerror(errno));
      }
      if (received > 0 && now - last >= quiet) break;
      if (now - start >= max_time) break;
    }
    const double elapsed = received > 1 ? bench::seconds_between(first, last) : 0;
    const double cpu = received > 0 ? bench::process_cpu_seconds() - cpu_at_first : 0;
    std::printf(
        "sink transport=udp-floor received=%llu unique=%llu invalid=0 dropped=0 oversize=0 "
        "datagrams=%llu http_requests=0 elapsed_s=%.3f rate=%.0f rcvbuf=%d bytes=%llu cpu_s=%.3f "
        "per_cpu_s=%.0f\n",
        static_cast<unsigned long long>(received), static_cast<unsigned long long>(received),
        static_cast<unsigned long long>(received), elapsed,
        elapsed > 0 ? static_cast<double>(received) / elapsed : 0, granted,
        static_cast<unsigned long long>(bytes), cpu,
        cpu > 0 ? static_cast<double>(received) / cpu : 0);
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "recvmmsg_floor: %s\n", error.what());
    return 2;
  }
}

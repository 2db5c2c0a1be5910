// Sockets for the GELF and syslog exporters: see the header.
#include "shipper/exporter_io.hpp"

#include <fmt/format.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace runner::shipper {

namespace {

using Clock = std::chrono::steady_clock;

struct AddrInfoDeleter {
  void operator()(addrinfo* list) const { ::freeaddrinfo(list); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoDeleter>;

AddrInfoList resolve(const std::string& host, std::uint16_t port, int socktype) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    // AI_ADDRCONFIG hides loopback addresses on a host with no other interface; try without.
    hints.ai_flags = 0;
    const int again = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
    if (again != 0) {
      throw SocketError(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(again)));
    }
  }
  return AddrInfoList(list);
}

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

std::string errno_text(int error) {
  return std::strerror(error);
}

std::string host_port(const std::string& host, std::uint16_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

}  // namespace

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

// --- TCP --------------------------------------------------------------------------------------

std::string TcpConnection::endpoint() const {
  return host_port(host_, port_);
}

void TcpConnection::ensure_connected() {
  if (fd_ && !peer_closed()) return;
  fd_.reset();
  const AddrInfoList list = resolve(host_, port_, SOCK_STREAM);
  const auto deadline = Clock::now() + connect_timeout_;
  std::string last_error = "no address";
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (!fd) {
      last_error = errno_text(errno);
      continue;
    }
    int rc = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd.get(), POLLOUT, 0};
      int ready = 0;
      do {
        ready = ::poll(&p, 1, remaining_ms(deadline));
      } while (ready < 0 && errno == EINTR);
      if (ready == 0) {
        last_error = fmt::format("connection timed out after {} ms", connect_timeout_.count());
        continue;
      }
      int error = 0;
      socklen_t size = sizeof error;
      if (ready < 0 || ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) {
        error = errno;
      }
      if (error != 0) {
        last_error = errno_text(error);
        continue;
      }
      rc = 0;
    }
    if (rc != 0) {
      last_error = errno_text(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    fd_ = std::move(fd);
    return;
  }
  throw SocketError(fmt::format("cannot connect to {}: {}", endpoint(), last_error));
}

void TcpConnection::send_all(std::string_view bytes) {
  if (!fd_) throw SocketError(fmt::format("not connected to {}", endpoint()));
  const auto deadline = Clock::now() + io_timeout_;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_.get(), POLLOUT, 0};
      const int ready = ::poll(&p, 1, remaining_ms(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        fd_.reset();
        throw SocketError(
            fmt::format("sending to {} timed out after {} ms", endpoint(), io_timeout_.count()));
      }
      continue;
    }
    const int error = n < 0 ? errno : EPIPE;
    fd_.reset();
    throw SocketError(fmt::format("sending to {} failed: {}", endpoint(), errno_text(error)));
  }
}

bool TcpConnection::peer_closed() {
  if (!fd_) return true;
  for (;;) {
    pollfd p{fd_.get(), POLLIN | POLLRDHUP, 0};
    const int ready = ::poll(&p, 1, 0);
    if (ready < 0) return errno != EINTR;
    if (ready == 0) return false;
    if ((p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) != 0) return true;
    char buffer[4096];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    // The receiver said something (syslog and GELF receivers do not answer): discard it.
  }
}

// --- UDP --------------------------------------------------------------------------------------

std::string UdpSocket::endpoint() const {
  return host_port(host_, port_);
}

void UdpSocket::open() {
  const AddrInfoList list = resolve(host_, port_, SOCK_DGRAM);
  std::string last_error = "no address";
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      last_error = errno_text(errno);
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = errno_text(errno);
      continue;
    }
    fd_ = std::move(fd);
    return;
  }
  throw SocketError(fmt::format("cannot open a UDP socket to {}: {}", endpoint(), last_error));
}

void UdpSocket::send(std::string_view datagram) {
  if (!fd_) open();
  for (;;) {
    const ssize_t n = ::send(fd_.get(), datagram.data(), datagram.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(datagram.size())) return;
    if (n < 0 && errno == EINTR) continue;
    const int error = n < 0 ? errno : EMSGSIZE;
    // ECONNREFUSED: an ICMP port unreachable came back for an earlier datagram; the socket
    // reports it once, so a retry of the batch sends again.
    throw SocketError(fmt::format("sending a UDP datagram of {} bytes to {} failed: {}",
                                  datagram.size(), endpoint(), errno_text(error)));
  }
}

}  // namespace runner::shipper

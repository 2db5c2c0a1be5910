// File descriptors and sockets for the exporters that are not HTTP (file, GELF, syslog): an
// owning fd, and blocking-with-deadline TCP and UDP clients. No threads, no signals: sends use
// MSG_NOSIGNAL, waits use poll() with the exporter's timeout.
#pragma once

#include "common/error.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace runner::shipper {

// Owns one file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A socket operation that failed; what() says which and why (strerror), never data.
class SocketError : public Error {
 public:
  explicit SocketError(const std::string& what) : Error(ErrorKind::export_failed, what) {}
};

// A TCP client connection to host:port (name resolved with getaddrinfo, every address tried).
class TcpConnection {
 public:
  TcpConnection(std::string host, std::uint16_t port, std::chrono::milliseconds connect_timeout,
                std::chrono::milliseconds io_timeout)
      : host_(std::move(host)),
        port_(port),
        connect_timeout_(connect_timeout),
        io_timeout_(io_timeout) {}

  bool connected() const { return static_cast<bool>(fd_); }
  // Connects when not connected, or when the peer closed the idle connection since the last
  // send (checked without blocking), so a batch never goes to a dead connection first.
  void ensure_connected();
  // Writes every byte before the io timeout; throws SocketError (and disconnects) otherwise.
  void send_all(std::string_view bytes);
  // True when the peer has closed or reset the connection (non-blocking check); data the peer
  // sent is read and discarded.
  bool peer_closed();
  void disconnect() { fd_.reset(); }
  std::string endpoint() const;  // "host:port"

 private:
  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds io_timeout_;
  UniqueFd fd_;
};

// A connected UDP socket to host:port: send() reports local errors and, on a connected socket,
// an ICMP "port unreachable" from an earlier datagram (ECONNREFUSED); nothing confirms delivery.
class UdpSocket {
 public:
  UdpSocket(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}
  void send(std::string_view datagram);
  void disconnect() { fd_.reset(); }
  std::string endpoint() const;

 private:
  void open();
  std::string host_;
  std::uint16_t port_;
  UniqueFd fd_;
};

}  // namespace runner::shipper

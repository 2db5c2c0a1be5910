// HttpReceiver: see the header.
#include "http_receiver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <list>
#include <stdexcept>

namespace runner_test {

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string HttpRequest::header(const std::string& name) const {
  const std::string wanted = lower(name);
  for (const auto& [key, value] : headers)
    if (lower(key) == wanted) return value;
  return {};
}

bool HttpRequest::has_header(const std::string& name) const {
  const std::string wanted = lower(name);
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return lower(h.first) == wanted; });
}

struct HttpReceiver::Connection {
  int fd = -1;
  std::size_t number = 0;
  std::string in;
  bool continue_sent = false;
  bool closing = false;
};

HttpReceiver::HttpReceiver(HttpReply default_reply) : default_reply_(std::move(default_reply)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("cannot listen: ") + std::strerror(errno));
  }
  port_ = ntohs(address.sin_port);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("pipe failed");
  }
  wake_read_ = pipe_fds[0];
  wake_write_ = pipe_fds[1];
  thread_ = std::thread([this] { run(); });
}

HttpReceiver::~HttpReceiver() {
  const char stop = 'x';
  (void)!::write(wake_write_, &stop, 1);
  thread_.join();
  ::close(wake_read_);
  ::close(wake_write_);
  ::close(listen_fd_);
}

std::string HttpReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void HttpReceiver::set_default_reply(HttpReply reply) {
  std::lock_guard<std::mutex> lock(mutex_);
  default_reply_ = std::move(reply);
}

void HttpReceiver::queue_reply(HttpReply reply) {
  std::lock_guard<std::mutex> lock(mutex_);
  queued_.push_back(std::move(reply));
}

std::vector<HttpRequest> HttpReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::size_t HttpReceiver::connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_;
}

HttpReply HttpReceiver::next_reply() {
  if (queued_.empty()) return default_reply_;
  HttpReply reply = std::move(queued_.front());
  queued_.pop_front();
  return reply;
}

void HttpReceiver::run() {
  std::list<Connection> connections;
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({wake_read_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Connection& c : connections) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    if ((fds[1].revents & POLLIN) != 0) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        connections.push_back(Connection{fd, ++connections_, {}, false, false});
      }
    }
    std::size_t index = 2;
    for (auto it = connections.begin(); it != connections.end(); ++index) {
      // Connections accepted in this round have no pollfd yet.
      if (index >= fds.size() || fds[index].fd != it->fd) {
        ++it;
        continue;
      }
      bool drop = false;
      if (fds[index].revents != 0) {
        char buffer[65536];
        const ssize_t n = ::recv(it->fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
          drop = true;
        } else {
          it->in.append(buffer, static_cast<std::size_t>(n));
          serve(*it);
          drop = it->closing;
        }
      }
      if (drop) {
        ::close(it->fd);
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Connection& c : connections) ::close(c.fd);
}

// Answers every complete request in the connection's buffer.
void HttpReceiver::serve(Connection& connection) {
  while (!connection.closing) {
    const std::size_t head_end = connection.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return;
    HttpRequest request;
    request.connection = connection.number;
    const std::string head = connection.in.substr(0, head_end);
    std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const std::size_t sp1 = request_line.find(' ');
    const std::size_t sp2 = request_line.find(' ', sp1 + 1);
    request.method = request_line.substr(0, sp1);
    request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line =
          head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      request.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    std::size_t consumed = head_end + 4;
    if (lower(request.header("Transfer-Encoding")).find("chunked") != std::string::npos) {
      std::size_t at = consumed;
      bool complete = false;
      std::string body;
      for (;;) {
        const std::size_t size_end = connection.in.find("\r\n", at);
        if (size_end == std::string::npos) break;
        const std::size_t size = std::stoul(connection.in.substr(at, size_end - at), nullptr, 16);
        if (connection.in.size() < size_end + 2 + size + 2) break;
        body.append(connection.in, size_end + 2, size);
        at = size_end + 2 + size + 2;
        if (size == 0) {
          complete = true;
          break;
        }
      }
      if (!complete) return;
      request.body = std::move(body);
      consumed = at;
    } else {
      const std::string length_text = request.header("Content-Length");
      const std::size_t length = length_text.empty() ? 0 : std::stoul(length_text);
      if (connection.in.size() < consumed + length) {
        if (!connection.continue_sent && lower(request.header("Expect")) == "100-continue") {
          send_all(connection.fd, "HTTP/1.1 100 Continue\r\n\r\n");
          connection.continue_sent = true;
        }
        return;
      }
      request.body = connection.in.substr(consumed, length);
      consumed += length;
    }
    connection.in.erase(0, consumed);
    connection.continue_sent = false;
    HttpReply reply;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(request);
      reply = next_reply();
    }
    const bool close = reply.close || lower(request.header("Connection")) == "close";
    std::string out =
        "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) + "\r\n";
    if (reply.status != 204) {
      out += "Content-Type: " + reply.content_type + "\r\n";
      out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    }
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
    if (reply.status != 204) out += reply.body;
    if (!send_all(connection.fd, out) || close) connection.closing = true;
  }
}

}  // namespace runner_test

// EngineProxy: see the header. Requests are parsed just enough to find their boundaries
// (Content-Length bodies; anything else, such as a chunked upload, switches the connection to
// plain relaying); answers are relayed byte for byte.
#include "engine_proxy.hpp"

#include "cli_process.hpp"
#include "docker/engine_client.hpp"
#include "secrets/encoding.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace runner_test {

namespace {

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// Adds `label` to the label filter of a GET /containers/json target.
std::string scoped_list_target(const std::string& target, const std::string& label) {
  const auto q = target.find('?');
  std::string path = target.substr(0, q);
  std::vector<std::string> params;
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    for (std::size_t start = 0; start <= query.size();) {
      const auto amp = std::min(query.find('&', start), query.size());
      if (amp > start) params.push_back(query.substr(start, amp - start));
      start = amp + 1;
    }
  }
  nlohmann::json filters = nlohmann::json::object();
  std::erase_if(params, [&](const std::string& p) {
    if (!p.starts_with("filters=")) return false;
    filters = nlohmann::json::parse(percent_decode(p.substr(8)));
    return true;
  });
  if (filters.contains("label") && filters["label"].is_object()) {
    filters["label"][label] = true;  // the legacy map form
  } else {
    filters["label"].push_back(label);
  }
  params.push_back("filters=" + runner::secrets::url_encode(filters.dump()));
  std::string out = path + "?";
  for (std::size_t i = 0; i < params.size(); ++i) out += (i ? "&" : "") + params[i];
  return out;
}

}  // namespace

std::string api_path(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  if (path.size() > 2 && path[1] == 'v' && std::isdigit(static_cast<unsigned char>(path[2]))) {
    const auto slash = path.find('/', 1);
    path = slash == std::string::npos ? "/" : path.substr(slash);
  }
  return path;
}

struct EngineProxy::Pair {
  int client = -1;
  int upstream = -1;
  enum class Mode { head, body, raw } mode = Mode::head;
  std::string head;  // request bytes up to the end of the headers
  std::size_t body_left = 0;
};

EngineProxy::EngineProxy(Listen listen, std::string scope_label)
    : scope_label_(std::move(scope_label)) {
  if (listen == Listen::unix_socket) {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("runner-proxy-" + std::to_string(rd() % 1000000000) + ".sock"))
                .string();
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = unix_address(path_);
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot bind " + path_);
  } else {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size) != 0)
      throw std::runtime_error("cannot bind a TCP port on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
  }
  if (::listen(listener_, 128) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot listen");
  thread_ = std::thread([this] { loop(); });
}

EngineProxy::~EngineProxy() {
  cut();
  thread_.join();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string EngineProxy::docker_host() const {
  return port_ != 0 ? "tcp://127.0.0.1:" + std::to_string(port_) : "unix://" + path_;
}

std::vector<ProxiedRequest> EngineProxy::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t EngineProxy::count(const std::string& method, const std::string& path) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      requests_.begin(), requests_.end(),
      [&](const ProxiedRequest& r) { return r.method == method && api_path(r.target) == path; }));
}

void EngineProxy::cut() {
  if (cut_.exchange(true)) return;
  const char byte = 1;
  (void)!::write(wake_[1], &byte, 1);
}

int EngineProxy::connect_upstream() const {
  const runner::docker::EngineEndpoint engine = engine_endpoint();
  if (!engine.unix_socket.empty()) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = unix_address(engine.unix_socket);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    if (fd >= 0) ::close(fd);
    return -1;
  }
  // tcp: base_url is http://host:port
  const std::string hostport = engine.base_url.substr(engine.base_url.find("//") + 2);
  const auto colon = hostport.rfind(':');
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(hostport.substr(0, colon).c_str(), hostport.substr(colon + 1).c_str(), &hints,
                    &found) != 0)
    return -1;
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  return fd;
}

bool EngineProxy::forward(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool EngineProxy::on_client_bytes(Pair& pair, const char* data, std::size_t size) {
  while (size > 0) {
    if (pair.mode == Pair::Mode::raw) return forward(pair.upstream, data, size);
    if (pair.mode == Pair::Mode::body) {
      const std::size_t n = std::min(size, pair.body_left);
      if (!forward(pair.upstream, data, n)) return false;
      data += n;
      size -= n;
      pair.body_left -= n;
      if (pair.body_left == 0) pair.mode = Pair::Mode::head;
      continue;
    }
    // Mode::head: gather up to the blank line, then record and forward the request head.
    const std::size_t before = pair.head.size();
    pair.head.append(data, size);
    const auto end = pair.head.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (pair.head.size() > 1024 * 1024) {  // not HTTP as expected: relay as it is
        pair.mode = Pair::Mode::raw;
        const bool ok = forward(pair.upstream, pair.head.data(), pair.head.size());
        pair.head.clear();
        return ok;
      }
      return true;
    }
    const std::size_t used = end + 4 - before;  // bytes of `data` that belong to this head
    data += used;
    size -= used;
    const std::string head = pair.head.substr(0, end);
    pair.head.clear();

    ProxiedRequest request;
    const auto line_end = head.find("\r\n");
    const std::string line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 + 1);
    request.method = line.substr(0, sp1);
    request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (std::size_t at = line_end; at != std::string::npos && at < head.size();) {
      const auto next = head.find("\r\n", at + 2);
      const std::string header =
          head.substr(at + 2, (next == std::string::npos ? head.size() : next) - at - 2);
      const auto colon = header.find(':');
      if (colon != std::string::npos) {
        std::string value = header.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        request.headers[lower(header.substr(0, colon))] = value;
      }
      at = next;
    }
    std::string forwarded = head + "\r\n\r\n";
    if (!scope_label_.empty() && request.method == "GET" &&
        api_path(request.target) == "/containers/json") {
      const std::string target = scoped_list_target(request.target, scope_label_);
      forwarded =
          request.method + " " + target + line.substr(sp2) + head.substr(line_end) + "\r\n\r\n";
    }
    pair.body_left = 0;
    pair.mode = Pair::Mode::head;
    if (auto it = request.headers.find("content-length"); it != request.headers.end()) {
      pair.body_left = std::stoull(it->second);
      if (pair.body_left > 0) pair.mode = Pair::Mode::body;
    }
    if (request.headers.count("transfer-encoding") != 0 || request.headers.count("upgrade") != 0)
      pair.mode = Pair::Mode::raw;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(request));
    }
    if (!forward(pair.upstream, forwarded.data(), forwarded.size())) return false;
  }
  return true;
}

void EngineProxy::loop() {
  std::vector<Pair> pairs;
  auto close_pair = [](Pair& p) {
    if (p.client >= 0) ::close(p.client);
    if (p.upstream >= 0) ::close(p.upstream);
    p.client = p.upstream = -1;
  };
  std::vector<char> buffer(64 * 1024);
  while (!cut_) {
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.upstream, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) continue;
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      const int upstream = client >= 0 ? connect_upstream() : -1;
      if (client >= 0 && upstream >= 0) {
        Pair p;
        p.client = client;
        p.upstream = upstream;
        pairs.push_back(std::move(p));
      } else {
        if (client >= 0) ::close(client);
        if (upstream >= 0) ::close(upstream);
      }
    }
    const std::size_t polled = (fds.size() - 2) / 2;
    for (std::size_t i = 0; i < polled; ++i) {
      Pair& pair = pairs[i];
      for (int side = 0; side < 2 && pair.client >= 0; ++side) {
        if (fds[2 + 2 * i + side].revents == 0) continue;
        const int from = side == 0 ? pair.client : pair.upstream;
        const ssize_t n = ::read(from, buffer.data(), buffer.size());
        if (n <= 0) {
          close_pair(pair);
          break;
        }
        if (side == 0) {
          if (!on_client_bytes(pair, buffer.data(), static_cast<std::size_t>(n))) close_pair(pair);
        } else if (!forward(pair.client, buffer.data(), static_cast<std::size_t>(n))) {
          close_pair(pair);
        }
      }
    }
    std::erase_if(pairs, [](const Pair& p) { return p.client < 0; });
  }
  for (auto& p : pairs) close_pair(p);
  ::close(listener_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace runner_test

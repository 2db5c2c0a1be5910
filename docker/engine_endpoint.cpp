// EngineEndpoint: DOCKER_HOST parsing. Kept apart from the client so it is testable alone.
#include "docker/engine_endpoint.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace runner::docker {
namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// "host", "host:port", "[v6]:port" -> "host:port" with the default port when none is given.
std::string with_port(const std::string& authority, const std::string& host, bool tls) {
  const std::string default_port = tls ? "2376" : "2375";
  std::string name = authority;
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos)
      throw std::invalid_argument("docker host \"" + host + "\": unclosed [ in the address");
    name = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        throw std::invalid_argument("docker host \"" + host + "\": expected tcp://HOST:PORT");
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    name = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (name.empty() || name == "[]")
    throw std::invalid_argument("docker host \"" + host + "\": no host name in tcp://HOST:PORT");
  if (port.empty()) port = default_port;
  const bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
    throw std::invalid_argument("docker host \"" + host + "\": port \"" + port +
                                "\" is not a number from 1 to 65535");
  return name + ":" + port;
}

}  // namespace

EngineEndpoint EngineEndpoint::parse(const std::string& host) {
  EngineEndpoint ep;
  ep.display = host;
  if (host.rfind("unix://", 0) == 0) {
    ep.unix_socket = host.substr(7);
    if (ep.unix_socket.empty() || ep.unix_socket[0] != '/')
      throw std::invalid_argument("docker host \"" + host +
                                  "\": expected unix:// followed by an absolute socket path");
    ep.base_url = "http://localhost";
    return ep;
  }
  if (host.rfind("tcp://", 0) == 0) {
    std::string rest = host.substr(6);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();  // "tcp://host:2376/" is fine
    if (rest.empty() || rest.find('/') != std::string::npos || rest.find('@') != std::string::npos)
      throw std::invalid_argument("docker host \"" + host + "\": expected tcp://HOST:PORT");
    // The docker CLI turns verification on for any non-empty DOCKER_TLS_VERIFY (even "0").
    ep.tls = !env_or_empty("DOCKER_TLS_VERIFY").empty();
    const std::string authority = with_port(rest, host, ep.tls);
    if (ep.tls) {
      ep.cert_path = env_or_empty("DOCKER_CERT_PATH");
      if (ep.cert_path.empty()) ep.cert_path = env_or_empty("HOME") + "/.docker";
      std::error_code ec;
      auto existing = [&](const char* name) {
        const std::string path = ep.cert_path + "/" + name;
        return std::filesystem::exists(path, ec) ? path : std::string();
      };
      ep.ca_file = existing("ca.pem");
      ep.cert_file = existing("cert.pem");
      ep.key_file = existing("key.pem");
    }
    ep.base_url = std::string(ep.tls ? "https://" : "http://") + authority;
    ep.display = "tcp://" + authority;
    return ep;
  }
  if (!host.empty() && host[0] == '/') return parse("unix://" + host);
  throw std::invalid_argument("docker host \"" + host +
                              "\": expected unix:///path/to/docker.sock or tcp://HOST:PORT");
}

EngineEndpoint EngineEndpoint::from_environment(const std::optional<std::string>& override_host) {
  if (override_host && !override_host->empty()) return parse(*override_host);
  const char* env = std::getenv("DOCKER_HOST");
  if (env != nullptr && *env != '\0') return parse(env);
  return parse("unix:///var/run/docker.sock");
}

}  // namespace runner::docker

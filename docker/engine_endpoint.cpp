// EngineEndpoint: DOCKER_HOST parsing. Kept apart from the client so it is testable alone.
#include "docker/engine_endpoint.hpp"

#include <cstdlib>
#include <stdexcept>

namespace runner::docker {

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
    if (rest.empty() || rest.find('/') != std::string::npos)
      throw std::invalid_argument("docker host \"" + host + "\": expected tcp://HOST:PORT");
    const char* verify = std::getenv("DOCKER_TLS_VERIFY");
    ep.tls = verify != nullptr && *verify != '\0' && std::string(verify) != "0";
    if (ep.tls) {
      const char* certs = std::getenv("DOCKER_CERT_PATH");
      const char* home = std::getenv("HOME");
      ep.cert_path =
          certs != nullptr ? certs : std::string(home != nullptr ? home : "") + "/.docker";
    }
    ep.base_url = std::string(ep.tls ? "https://" : "http://") + rest;
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

// EngineEndpoint: where the Docker engine listens, parsed from --docker-host or DOCKER_HOST.
//
// Supports unix://PATH (the default, /var/run/docker.sock) and tcp://HOST:PORT, with TLS when
// DOCKER_TLS_VERIFY is set (certificates from DOCKER_CERT_PATH), the same variables the docker
// CLI reads.
#pragma once

#include <optional>
#include <string>

namespace runner::docker {

struct EngineEndpoint {
  std::string unix_socket;  // empty for tcp
  std::string base_url;     // "http://localhost" for unix sockets, "http(s)://host:port" for tcp
  bool tls = false;
  std::string cert_path;  // folder with ca.pem, cert.pem, key.pem when tls
  std::string display;    // what to show in messages

  // Parses a DOCKER_HOST-style string; throws std::invalid_argument naming the problem.
  static EngineEndpoint parse(const std::string& host);
  // --docker-host if given, else $DOCKER_HOST, else the default socket.
  static EngineEndpoint from_environment(const std::optional<std::string>& override_host);
};

}  // namespace runner::docker

// EngineEndpoint: where the Docker engine listens, parsed from --docker-host or DOCKER_HOST.
//
// Supports unix://PATH (the default, /var/run/docker.sock) and tcp://HOST[:PORT], read the way the
// docker CLI reads them: TLS with verification of the engine's certificate when DOCKER_TLS_VERIFY
// is set to anything non-empty, with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH (default
// ~/.docker), each used when it exists; a tcp:// host without a port gets 2376 with TLS and 2375
// without. `--docker-host` has the same meaning as DOCKER_HOST (the TLS variables apply to both).
#pragma once

#include <optional>
#include <string>

namespace runner::docker {

struct EngineEndpoint {
  std::string unix_socket;  // empty for tcp
  std::string base_url;     // "http://localhost" for unix sockets, "http(s)://host:port" for tcp
  bool tls = false;
  std::string cert_path;  // folder with ca.pem, cert.pem, key.pem when tls
  std::string ca_file;    // the files of cert_path that exist (empty when absent)
  std::string cert_file;
  std::string key_file;
  std::string display;  // what to show in messages ("tcp://host:2376", "unix:///path")

  // A unix socket is an engine on this machine; a tcp:// one may be anywhere, so it cannot be
  // assumed to see this machine's files (file handling by copy, docs/engines.md).
  bool is_local() const { return !unix_socket.empty(); }

  // Parses a DOCKER_HOST-style string; throws std::invalid_argument naming the problem.
  static EngineEndpoint parse(const std::string& host);
  // --docker-host if given, else $DOCKER_HOST, else the default socket.
  static EngineEndpoint from_environment(const std::optional<std::string>& override_host);
};

}  // namespace runner::docker

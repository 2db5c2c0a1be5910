// EngineProxy: a relay between the runner under test and the shared Docker engine
// (runner_test::engine_host()), on a Unix socket or a TCP port of its own.
//
// It reads the HTTP requests runner sends (request line and headers; bodies and answers pass
// through untouched) so a test can prove what runner asked the engine for, or did not ask for
// (no POST /containers/create; the X-Registry-Auth header of a pull that no registry here can
// answer), with other tests' jobs on the same engine invisible to it. With a scope label, the
// container lists runner asks for are narrowed to containers carrying that label too, so
// `runner gc` (even `--all`) sees, and can remove, only the test's own containers on the shared
// engine. cut() closes everything: the engine "goes away" for runner only.
//
// One thread polls the listener and every connection pair: runner's calls must be served while
// the test thread waits on the runner process.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace runner_test {

struct ProxiedRequest {
  std::string method;
  std::string target;  // as runner sent it, e.g. /v1.43/containers/create?...
  std::map<std::string, std::string> headers;  // names in lower case
};

class EngineProxy {
 public:
  enum class Listen { unix_socket, tcp };
  explicit EngineProxy(Listen listen = Listen::unix_socket, std::string scope_label = "");
  ~EngineProxy();
  EngineProxy(const EngineProxy&) = delete;
  EngineProxy& operator=(const EngineProxy&) = delete;

  // unix:///tmp/runner-proxy-....sock or tcp://127.0.0.1:PORT
  std::string docker_host() const;
  std::vector<ProxiedRequest> requests() const;
  // Requests whose method is `method` and whose path (after the /vX.Y prefix, before '?') is
  // `path`, e.g. ("POST", "/containers/create").
  std::size_t count(const std::string& method, const std::string& path) const;
  // Closes every connection and the listener: from now on runner finds no engine here.
  void cut();

 private:
  struct Pair;
  void loop();
  bool on_client_bytes(Pair& pair, const char* data, std::size_t size);  // false: close
  static bool forward(int fd, const char* data, std::size_t size);
  int connect_upstream() const;

  std::string path_;  // Unix socket path, or empty
  int port_ = 0;      // TCP port, or 0
  std::string scope_label_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> cut_{false};
  mutable std::mutex mutex_;
  std::vector<ProxiedRequest> requests_;
  std::thread thread_;
};

// The path part of a request target without the API version prefix and the query:
// "/v1.43/containers/json?all=1" -> "/containers/json".
std::string api_path(const std::string& target);

}  // namespace runner_test

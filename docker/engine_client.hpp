// EngineClient: blocking calls to the Docker Engine API over its Unix socket (or tcp), via libcurl.
//
// Any engine that speaks the Docker API: Docker's own, and Podman's service (its Docker-compatible
// API). negotiate() tells them apart by the headers of /_ping (Podman adds Libpod-Api-Version), so
// callers can adapt where the two differ (docs/engines.md).
//
// One easy handle is kept and reused so successive calls share a connection (create, start,
// inspect and remove of one job cost one connect). Every non-2xx answer becomes an EngineApiError
// carrying the daemon's own message; transport failures become EngineUnreachableError. Not
// thread-safe: one client per thread. Streaming calls (attach, wait) live in AttachedContainer,
// which uses its own handles.
#pragma once

#include "docker/container_config.hpp"
#include "docker/curl_handles.hpp"
#include "docker/engine_endpoint.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace runner::docker {

struct HttpAnswer {
  long status = 0;
  std::string body;
  std::string api_version_header;     // "Api-Version" from /_ping
  std::string libpod_version_header;  // "Libpod-Api-Version": only Podman sends it
};

enum class EngineKind { docker, podman };
const char* engine_kind_name(EngineKind kind);

class EngineClient {
 public:
  static constexpr const char* kMinApiVersion = "1.40";
  static constexpr const char* kMaxApiVersion = "1.43";

  explicit EngineClient(EngineEndpoint endpoint);

  // GET /_ping; picks min(our maximum, the engine's), refuses engines below 1.40.
  void negotiate();
  const std::string& api_version() const { return api_version_; }
  const EngineEndpoint& endpoint() const { return endpoint_; }
  // Known after negotiate().
  EngineKind kind() const { return kind_; }
  // Whether State.OOMKilled can be trusted: Podman before 5.0 never sets it (conmon records the
  // kill, podman does not read it back: podman#13102), so a memory-limit kill there shows only as
  // exit code 137.
  bool reports_oom_kills() const { return kind_ != EngineKind::podman || libpod_major_ >= 5; }

  // Creates a container; returns its id. Throws EngineApiError (404 when the image is missing).
  std::string create_container(const ContainerConfig& config, const std::string& name);
  void start_container(const std::string& id);
  // POST /kill; a container that is no longer running is not an error.
  void kill_container(const std::string& id, const std::string& signal = "KILL");
  // POST /stop with `grace_seconds` before the engine kills; not running is not an error.
  void stop_container(const std::string& id, int grace_seconds);
  // DELETE ?force=1&v=1; an already removed container is not an error.
  void remove_container(const std::string& id);
  ContainerState inspect_container(const std::string& id);
  // GET /images/{name}/json: the image's Config.User ("" when it runs as root by default), or
  // nullopt when the engine does not have the image (yet).
  std::optional<std::string> image_user(const std::string& image);
  // Containers (running or not) carrying every given label ("key" or "key=value").
  std::vector<ContainerSummary> list_containers(const std::vector<std::string>& labels);
  // The gateway of a network's first IPAM config ("172.17.0.1"), or empty when the engine does
  // not report one (Debian's engine does not for the default bridge).
  std::string network_gateway(const std::string& network);
  // GET /info: how many CPUs the engine's host has (NCPU); 0 when it does not say.
  int cpu_count();
  // POST /images/create; reads the progress stream and throws ImagePullError on errorDetail.
  // `abort`, when given, is asked several times a second during the transfer; when it returns
  // true the transfer ends with TransferAborted (a stop request does not wait for the pull).
  void pull_image(const std::string& image, const std::optional<RegistryAuth>& auth,
                  const std::function<bool()>& abort = {});
  // PUT /containers/{id}/archive?path=DIR: extracts the tar file `tar_path` into the container's
  // folder `dir` (which must exist; "/" always does). Works on a created container.
  void put_archive(const std::string& id, const std::string& dir, const std::string& tar_path);
  // GET /containers/{id}/archive?path=PATH: writes the tar of the container's PATH (its last
  // component is the tar's top folder) to `tar_path`, stopping with an EngineError past
  // `max_bytes`. Returns false when PATH does not exist in the container.
  bool get_archive(const std::string& id, const std::string& path, const std::string& tar_path,
                   std::uint64_t max_bytes);

  // Prepares `handle` to talk to this engine (socket path, TLS), for streaming users.
  void configure_transport(CURL* handle) const;
  // Full URL for a versioned API path such as "/containers/x/json".
  std::string url(const std::string& path) const;

  // Low-level call; throws EngineUnreachableError on transport failure, never on HTTP status.
  // `abort`: see pull_image.
  HttpAnswer call(const char* method, const std::string& path, const std::string* body = nullptr,
                  const std::vector<std::string>& headers = {}, long timeout_ms = 60000,
                  const std::function<bool()>& abort = {});

 private:
  HttpAnswer checked(const char* method, const std::string& path, const std::string& operation,
                     const std::string* body = nullptr,
                     const std::vector<std::string>& headers = {});

  // A transport failure as an EngineUnreachableError that says what to fix (TLS set-up above all).
  [[noreturn]] void throw_unreachable(int curl_code, const char* detail) const;

  EngineEndpoint endpoint_;
  std::string api_version_ = kMaxApiVersion;
  bool negotiated_ = false;
  EngineKind kind_ = EngineKind::docker;
  int libpod_major_ = 0;
  CurlEasy handle_;
};

// When a container could not be set up because its resource limits exceed what the engine's
// process may grant ("error setting rlimit type N"), a sentence saying so and how to fix it;
// empty for any other message. Podman's default ulimits do that on sandboxed machines.
std::string rlimit_failure_hint(const std::string& daemon_message, EngineKind kind);
// Extracts the "message" of a daemon error body, or the body itself when it is not JSON.
std::string daemon_message(const std::string& body);
// Compares dotted API versions ("1.41" < "1.9" is false). Returns <0, 0, >0.
int compare_api_versions(const std::string& a, const std::string& b);

}  // namespace runner::docker

// EngineClient: see the header. Plain request/response over one reused libcurl handle.
#include "docker/engine_client.hpp"

#include "docker/engine_errors.hpp"

#include "secrets/encoding.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

namespace runner::docker {
namespace {

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// The value of header `key` (lower case, with the colon) when `line` is that header.
std::optional<std::string> header_value(std::string_view line, std::string_view key) {
  if (line.size() <= key.size()) return std::nullopt;
  for (std::size_t i = 0; i < key.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != key[i]) return std::nullopt;
  std::string value(line.substr(key.size()));
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
    value.erase(0, 1);
  return value;
}

std::size_t read_header(char* data, std::size_t size, std::size_t count, void* user) {
  const std::string_view line(data, size * count);
  auto* answer = static_cast<HttpAnswer*>(user);
  if (auto v = header_value(line, "api-version:")) answer->api_version_header = *v;
  if (auto v = header_value(line, "libpod-api-version:")) answer->libpod_version_header = *v;
  return size * count;
}

// Streams a download into a file, failing (a short write) past its byte limit.
struct FileSink {
  std::FILE* file = nullptr;
  std::uint64_t written = 0;
  std::uint64_t limit = 0;
  bool over_limit = false;
  bool write_failed = false;
  std::string error_body;  // a non-2xx answer's body (small), kept instead of written
  long* status = nullptr;
};

std::size_t write_to_file(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<FileSink*>(user);
  const std::size_t n = size * count;
  long status = 0;
  if (sink->status != nullptr) status = *sink->status;
  if (status >= 300 || status == 0) {
    if (sink->error_body.size() < 64 * 1024) sink->error_body.append(data, n);
    return n;
  }
  if (sink->written + n > sink->limit) {
    sink->over_limit = true;
    return 0;  // libcurl stops the transfer
  }
  if (std::fwrite(data, 1, n, sink->file) != n) {
    sink->write_failed = true;
    return 0;
  }
  sink->written += n;
  return n;
}

}  // namespace

std::string daemon_message(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string())
    return parsed["message"].get<std::string>();
  std::string trimmed = body;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.pop_back();
  return trimmed.empty() ? "no message from the engine" : trimmed;
}

int compare_api_versions(const std::string& a, const std::string& b) {
  int amaj = 0, amin = 0, bmaj = 0, bmin = 0;
  std::sscanf(a.c_str(), "%d.%d", &amaj, &amin);
  std::sscanf(b.c_str(), "%d.%d", &bmaj, &bmin);
  if (amaj != bmaj) return amaj < bmaj ? -1 : 1;
  if (amin != bmin) return amin < bmin ? -1 : 1;
  return 0;
}

EngineClient::EngineClient(EngineEndpoint endpoint)
    : endpoint_(std::move(endpoint)), handle_(curl_easy_init()) {
  if (!handle_) throw EngineError("cannot initialise libcurl");
}

const char* engine_kind_name(EngineKind kind) {
  return kind == EngineKind::podman ? "Podman" : "Docker";
}

std::string rlimit_failure_hint(const std::string& daemon_message, EngineKind kind) {
  if (daemon_message.find("error setting rlimit") == std::string::npos) return "";
  std::string hint =
      "the engine cannot give the container its resource limits (ulimits): they exceed the hard "
      "limits of the engine's own process";
  if (kind == EngineKind::podman)
    hint +=
        ". Podman's default ulimits (open files 1048576) are above this machine's hard limits: set "
        "default_ulimits within them in /etc/containers/containers.conf.d/ "
        "(scripts/start-podman.sh "
        "writes 50-runner.conf) and restart `podman system service`";
  else
    hint += ": lower the engine's default ulimits (dockerd --default-ulimit) to the machine's";
  return hint;
}

void EngineClient::configure_transport(CURL* handle) const {
  if (!endpoint_.unix_socket.empty())
    curl_easy_setopt(handle, CURLOPT_UNIX_SOCKET_PATH, endpoint_.unix_socket.c_str());
  if (endpoint_.tls) {
    // libcurl copies the strings. A file that is absent is not set (the docker CLI's rule): the
    // system's CAs then verify the engine, and no client certificate is offered.
    if (!endpoint_.ca_file.empty())
      curl_easy_setopt(handle, CURLOPT_CAINFO, endpoint_.ca_file.c_str());
    if (!endpoint_.cert_file.empty())
      curl_easy_setopt(handle, CURLOPT_SSLCERT, endpoint_.cert_file.c_str());
    if (!endpoint_.key_file.empty())
      curl_easy_setopt(handle, CURLOPT_SSLKEY, endpoint_.key_file.c_str());
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
}

void EngineClient::throw_unreachable(int curl_code, const char* detail) const {
  const auto rc = static_cast<CURLcode>(curl_code);
  std::string what = detail != nullptr && *detail != '\0' ? detail : curl_easy_strerror(rc);
  const std::string where = "the Docker engine at " + endpoint_.display;
  const std::string certs =
      endpoint_.cert_path.empty() ? std::string("DOCKER_CERT_PATH") : endpoint_.cert_path;
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
      throw EngineUnreachableError(
          "TLS: the certificate of " + where + " was not accepted (" + what + "): it must be " +
          "signed by " +
          (endpoint_.ca_file.empty() ? "a CA this system trusts (there is no " + certs + "/ca.pem)"
                                     : endpoint_.ca_file) +
          " and name the host in DOCKER_HOST");
    case CURLE_SSL_CACERT_BADFILE:
      throw EngineUnreachableError("TLS: cannot use the CA certificate " + endpoint_.ca_file +
                                   " for " + where + ": " + what);
    case CURLE_SSL_CERTPROBLEM:
      throw EngineUnreachableError(
          "TLS: cannot use the client certificate " +
          (endpoint_.cert_file.empty() ? certs + "/cert.pem" : endpoint_.cert_file) +
          " with its key " +
          (endpoint_.key_file.empty() ? certs + "/key.pem" : endpoint_.key_file) + " for " + where +
          ": " + what);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (endpoint_.tls)
        throw EngineUnreachableError(
            "TLS: the handshake with " + where + " failed (" + what + "). " +
            (endpoint_.cert_file.empty()
                 ? "The engine may require a client certificate: put cert.pem and key.pem into " +
                       certs + ". "
                 : "The engine may not accept the client certificate " + endpoint_.cert_file +
                       " (is it signed by the engine's CA?). ") +
            "If the engine does not speak TLS on this port, unset DOCKER_TLS_VERIFY");
      break;
    default:
      break;
  }
  throw EngineUnreachableError("cannot reach " + where + ": " + what);
}

std::string EngineClient::url(const std::string& path) const {
  return endpoint_.base_url + "/v" + api_version_ + path;
}

namespace {
// CURLOPT_XFERINFOFUNCTION: non-zero ends the transfer (CURLE_ABORTED_BY_CALLBACK).
int ask_abort(void* data, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<const std::function<bool()>*>(data);
  return (*abort)() ? 1 : 0;
}
}  // namespace

HttpAnswer EngineClient::call(const char* method, const std::string& path, const std::string* body,
                              const std::vector<std::string>& headers, long timeout_ms,
                              const std::function<bool()>& abort) {
  CURL* h = handle_.get();
  curl_easy_reset(h);
  configure_transport(h);
  HttpAnswer answer;
  const std::string full = path == "/_ping" ? endpoint_.base_url + path : url(path);
  std::vector<std::string> all_headers = headers;
  if (body != nullptr) all_headers.emplace_back("Content-Type: application/json");
  all_headers.emplace_back("Expect:");
  CurlSlist header_list = make_header_list(all_headers);
  curl_easy_setopt(h, CURLOPT_URL, full.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &answer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  if (abort) {
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, ask_abort);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &abort);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  }
  std::array<char, CURL_ERROR_SIZE> error_text{};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text.data());
  if (body != nullptr) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  } else if (std::string_view(method) == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
  }
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc == CURLE_ABORTED_BY_CALLBACK) throw TransferAborted(std::string(method) + " " + path);
  if (rc != CURLE_OK) throw_unreachable(rc, error_text.data());
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

HttpAnswer EngineClient::checked(const char* method, const std::string& path,
                                 const std::string& operation, const std::string* body,
                                 const std::vector<std::string>& headers) {
  if (!negotiated_) negotiate();
  HttpAnswer answer = call(method, path, body, headers);
  if (answer.status < 200 || answer.status >= 300)
    throw EngineApiError(answer.status, operation, daemon_message(answer.body));
  return answer;
}

void EngineClient::negotiate() {
  HttpAnswer answer = call("GET", "/_ping", nullptr, {}, 10000);
  if (answer.status == 400 && !endpoint_.tls &&
      answer.body.find("HTTP request to an HTTPS server") != std::string::npos)
    throw EngineUnreachableError("the Docker engine at " + endpoint_.display +
                                 " speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the "
                                 "folder holding ca.pem, cert.pem and key.pem");
  if (answer.status != 200)
    throw EngineUnreachableError("the Docker engine at " + endpoint_.display +
                                 " answered /_ping with HTTP " + std::to_string(answer.status));
  const std::string theirs = answer.api_version_header.empty() ? "1.24" : answer.api_version_header;
  if (compare_api_versions(theirs, kMinApiVersion) < 0)
    throw EngineVersionError("the Docker engine at " + endpoint_.display + " speaks API " + theirs +
                             "; runner needs API " + kMinApiVersion +
                             " or newer (Docker 19.03+): upgrade the engine");
  api_version_ = compare_api_versions(theirs, kMaxApiVersion) < 0 ? theirs : kMaxApiVersion;
  kind_ = answer.libpod_version_header.empty() ? EngineKind::docker : EngineKind::podman;
  libpod_major_ = std::atoi(answer.libpod_version_header.c_str());
  negotiated_ = true;
}

std::string EngineClient::create_container(const ContainerConfig& config, const std::string& name) {
  const std::string body = config.to_create_body().dump();
  HttpAnswer answer = checked("POST", "/containers/create?name=" + secrets::url_encode(name),
                              "create container", &body);
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("Id") || !parsed["Id"].is_string())
    throw EngineError("create container: the engine's answer has no container id");
  return parsed["Id"].get<std::string>();
}

void EngineClient::start_container(const std::string& id) {
  checked("POST", "/containers/" + id + "/start", "start container");
}

void EngineClient::kill_container(const std::string& id, const std::string& signal) {
  if (!negotiated_) negotiate();
  HttpAnswer answer =
      call("POST", "/containers/" + id + "/kill?signal=" + secrets::url_encode(signal));
  // 409: not running; 404: already gone. Both mean there is nothing left to kill.
  if (answer.status == 409 || answer.status == 404) return;
  if (answer.status < 200 || answer.status >= 300)
    throw EngineApiError(answer.status, "kill container", daemon_message(answer.body));
}

void EngineClient::stop_container(const std::string& id, int grace_seconds) {
  if (!negotiated_) negotiate();
  HttpAnswer answer = call("POST", "/containers/" + id + "/stop?t=" + std::to_string(grace_seconds),
                           nullptr, {}, (grace_seconds + 30) * 1000L);
  if (answer.status == 304 || answer.status == 404) return;
  if (answer.status < 200 || answer.status >= 300)
    throw EngineApiError(answer.status, "stop container", daemon_message(answer.body));
}

void EngineClient::remove_container(const std::string& id) {
  if (!negotiated_) negotiate();
  HttpAnswer answer = call("DELETE", "/containers/" + id + "?force=1&v=1");
  if (answer.status == 404) return;
  // 409 "removal already in progress" is also fine: the engine is removing it.
  if (answer.status == 409) return;
  if (answer.status < 200 || answer.status >= 300)
    throw EngineApiError(answer.status, "remove container", daemon_message(answer.body));
}

ContainerState EngineClient::inspect_container(const std::string& id) {
  HttpAnswer answer = checked("GET", "/containers/" + id + "/json", "inspect container");
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  ContainerState state;
  if (!parsed.is_object() || !parsed.contains("State")) return state;
  const auto& s = parsed["State"];
  state.status = s.value("Status", "");
  state.running = s.value("Running", false);
  state.exit_code = s.value("ExitCode", 0);
  state.oom_killed = s.value("OOMKilled", false);
  state.error = s.value("Error", "");
  if (parsed.contains("NetworkSettings") && parsed["NetworkSettings"].is_object()) {
    const auto& net = parsed["NetworkSettings"];
    state.ip_address = net.value("IPAddress", "");
    if (state.ip_address.empty() && net.contains("Networks") && net["Networks"].is_object())
      for (const auto& [name, settings] : net["Networks"].items())
        if (settings.is_object() && !settings.value("IPAddress", "").empty()) {
          state.ip_address = settings.value("IPAddress", "");
          break;
        }
  }
  return state;
}

std::optional<std::string> EngineClient::image_user(const std::string& image) {
  if (!negotiated_) negotiate();
  HttpAnswer answer = call("GET", "/images/" + secrets::url_encode(image, "~/:@") + "/json");
  if (answer.status == 404) return std::nullopt;
  if (answer.status < 200 || answer.status >= 300)
    throw EngineApiError(answer.status, "inspect image", daemon_message(answer.body));
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("Config") || !parsed["Config"].is_object())
    return std::string();
  const auto& user = parsed["Config"]["User"];
  return user.is_string() ? user.get<std::string>() : std::string();
}

std::vector<ContainerSummary> EngineClient::list_containers(
    const std::vector<std::string>& labels) {
  nlohmann::json filters = {{"label", labels}};
  HttpAnswer answer =
      checked("GET", "/containers/json?all=1&filters=" + secrets::url_encode(filters.dump()),
              "list containers");
  std::vector<ContainerSummary> result;
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (!parsed.is_array()) return result;
  for (const auto& c : parsed) {
    ContainerSummary s;
    s.id = c.value("Id", "");
    s.state = c.value("State", "");
    if (c.contains("Names") && c["Names"].is_array() && !c["Names"].empty()) {
      s.name = c["Names"][0].get<std::string>();
      if (!s.name.empty() && s.name[0] == '/') s.name.erase(0, 1);
    }
    if (c.contains("Labels") && c["Labels"].is_object())
      for (const auto& [k, v] : c["Labels"].items())
        if (v.is_string()) s.labels[k] = v.get<std::string>();
    result.push_back(std::move(s));
  }
  return result;
}

std::string EngineClient::network_gateway(const std::string& network) {
  HttpAnswer answer =
      checked("GET", "/networks/" + secrets::url_encode(network), "inspect network");
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("IPAM") || !parsed["IPAM"].is_object()) return "";
  const auto& ipam = parsed["IPAM"];
  if (!ipam.contains("Config") || !ipam["Config"].is_array()) return "";
  for (const auto& config : ipam["Config"])
    if (config.is_object() && config.contains("Gateway") && config["Gateway"].is_string() &&
        !config["Gateway"].get<std::string>().empty())
      return config["Gateway"].get<std::string>();
  return "";
}

int EngineClient::cpu_count() {
  HttpAnswer answer = checked("GET", "/info", "engine info");
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("NCPU") || !parsed["NCPU"].is_number_integer())
    return 0;
  const auto n = parsed["NCPU"].get<std::int64_t>();
  return n > 0 && n < 1000000 ? static_cast<int>(n) : 0;
}

void EngineClient::pull_image(const std::string& image, const std::optional<RegistryAuth>& auth,
                              const std::function<bool()>& abort) {
  std::string from = image;
  std::string tag;
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (image.find('@') == std::string::npos && colon != std::string::npos &&
      (slash == std::string::npos || colon > slash)) {
    from = image.substr(0, colon);
    tag = image.substr(colon + 1);
  } else if (image.find('@') == std::string::npos) {
    tag = "latest";
  }
  std::string path = "/images/create?fromImage=" + secrets::url_encode(from);
  if (!tag.empty()) path += "&tag=" + secrets::url_encode(tag);
  std::vector<std::string> headers;
  if (auth) {
    nlohmann::json creds = {{"username", auth->username},
                            {"password", auth->password},
                            {"serveraddress", auth->server_address}};
    headers.push_back("X-Registry-Auth: " +
                      secrets::base64_encode(creds.dump(), secrets::Base64Alphabet::UrlSafe));
  }
  if (!negotiated_) negotiate();
  HttpAnswer answer = call("POST", path, nullptr, headers, 30L * 60 * 1000, abort);
  if (answer.status < 200 || answer.status >= 300)
    throw ImagePullError("cannot pull image \"" + image + "\": " + daemon_message(answer.body));
  std::istringstream lines(answer.body);
  std::string line;
  while (std::getline(lines, line)) {
    auto msg = nlohmann::json::parse(line, nullptr, false);
    if (!msg.is_object()) continue;
    if (msg.contains("errorDetail") || msg.contains("error")) {
      std::string text = msg.value("error", "");
      if (text.empty() && msg["errorDetail"].is_object())
        text = msg["errorDetail"].value("message", "");
      throw ImagePullError("cannot pull image \"" + image + "\": " + text);
    }
  }
}

void EngineClient::put_archive(const std::string& id, const std::string& dir,
                               const std::string& tar_path) {
  if (!negotiated_) negotiate();
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(tar_path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) throw EngineError("cannot read " + tar_path + ": " + std::strerror(errno));
  std::fseek(file.get(), 0, SEEK_END);
  const long size = std::ftell(file.get());
  std::fseek(file.get(), 0, SEEK_SET);
  CURL* h = handle_.get();
  curl_easy_reset(h);
  configure_transport(h);
  const std::string full = url("/containers/" + id + "/archive?path=" + secrets::url_encode(dir));
  CurlSlist headers = make_header_list({"Content-Type: application/x-tar", "Expect:"});
  HttpAnswer answer;
  std::array<char, CURL_ERROR_SIZE> error_text{};
  curl_easy_setopt(h, CURLOPT_URL, full.c_str());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);  // PUT, the body read from the file
  curl_easy_setopt(h, CURLOPT_READDATA, file.get());
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text.data());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30L * 60 * 1000);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) throw_unreachable(rc, error_text.data());
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
  if (answer.status < 200 || answer.status >= 300)
    throw EngineApiError(answer.status, "copy into container", daemon_message(answer.body));
}

bool EngineClient::get_archive(const std::string& id, const std::string& path,
                               const std::string& tar_path, std::uint64_t max_bytes) {
  if (!negotiated_) negotiate();
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(tar_path.c_str(), "wb"),
                                                             &std::fclose);
  if (!file) throw EngineError("cannot write " + tar_path + ": " + std::strerror(errno));
  CURL* h = handle_.get();
  curl_easy_reset(h);
  configure_transport(h);
  const std::string full = url("/containers/" + id + "/archive?path=" + secrets::url_encode(path));
  long status = 0;
  FileSink sink{file.get(), 0, max_bytes, false, false, {}, &status};
  // The status is known before the first body byte: a header callback records it.
  auto on_header = +[](char* data, std::size_t size, std::size_t count, void* user) {
    const std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
      const auto space = line.find(' ');
      if (space != std::string_view::npos)
        *static_cast<long*>(user) = std::strtol(line.data() + space + 1, nullptr, 10);
    }
    return size * count;
  };
  std::array<char, CURL_ERROR_SIZE> error_text{};
  curl_easy_setopt(h, CURLOPT_URL, full.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &status);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_to_file);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text.data());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30L * 60 * 1000);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (sink.over_limit)
    throw EngineError("copy from container: " + path + " is larger than the limit of " +
                      std::to_string(max_bytes) + " bytes");
  if (sink.write_failed)
    throw EngineError("copy from container: cannot write " + tar_path + ": " +
                      std::strerror(errno));
  if (rc != CURLE_OK) throw_unreachable(rc, error_text.data());
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status == 404) return false;
  if (status < 200 || status >= 300)
    throw EngineApiError(status, "copy from container", daemon_message(sink.error_body));
  if (std::fflush(file.get()) != 0)
    throw EngineError("copy from container: cannot write " + tar_path + ": " +
                      std::strerror(errno));
  return true;
}

}  // namespace runner::docker

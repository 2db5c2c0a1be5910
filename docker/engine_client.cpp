// EngineClient: see the header. Plain request/response over one reused libcurl handle.
#include "docker/engine_client.hpp"

#include "docker/engine_errors.hpp"

#include "secrets/encoding.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <sstream>

namespace runner::docker {
namespace {

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t read_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view key = "api-version:";
  if (line.size() > key.size()) {
    bool match = true;
    for (std::size_t i = 0; i < key.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(line[i])) == key[i];
    if (match) {
      std::string value(line.substr(key.size()));
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
        value.pop_back();
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
        value.erase(0, 1);
      static_cast<HttpAnswer*>(user)->api_version_header = value;
    }
  }
  return size * count;
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

void EngineClient::configure_transport(CURL* handle) const {
  if (!endpoint_.unix_socket.empty())
    curl_easy_setopt(handle, CURLOPT_UNIX_SOCKET_PATH, endpoint_.unix_socket.c_str());
  if (endpoint_.tls) {
    const std::string ca = endpoint_.cert_path + "/ca.pem";
    const std::string cert = endpoint_.cert_path + "/cert.pem";
    const std::string key = endpoint_.cert_path + "/key.pem";
    curl_easy_setopt(handle, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(handle, CURLOPT_SSLCERT, cert.c_str());
    curl_easy_setopt(handle, CURLOPT_SSLKEY, key.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
}

std::string EngineClient::url(const std::string& path) const {
  return endpoint_.base_url + "/v" + api_version_ + path;
}

HttpAnswer EngineClient::call(const char* method, const std::string& path, const std::string* body,
                              const std::vector<std::string>& headers, long timeout_ms) {
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
  if (body != nullptr) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  } else if (std::string_view(method) == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
  }
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    throw EngineUnreachableError("cannot reach the Docker engine at " + endpoint_.display + ": " +
                                 curl_easy_strerror(rc));
  }
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
  if (answer.status != 200)
    throw EngineUnreachableError("the Docker engine at " + endpoint_.display +
                                 " answered /_ping with HTTP " + std::to_string(answer.status));
  const std::string theirs = answer.api_version_header.empty() ? "1.24" : answer.api_version_header;
  if (compare_api_versions(theirs, kMinApiVersion) < 0)
    throw EngineVersionError("the Docker engine at " + endpoint_.display + " speaks API " + theirs +
                             "; runner needs API " + kMinApiVersion +
                             " or newer (Docker 19.03+): upgrade the engine");
  api_version_ = compare_api_versions(theirs, kMaxApiVersion) < 0 ? theirs : kMaxApiVersion;
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

void EngineClient::pull_image(const std::string& image, const std::optional<RegistryAuth>& auth) {
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
  HttpAnswer answer = call("POST", path, nullptr, headers, 30L * 60 * 1000);
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

}  // namespace runner::docker

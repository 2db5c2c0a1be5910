// The `elasticsearch` / `opensearch` exporter: see the header.
#include "shipper/elasticsearch_exporter.hpp"

#include "logging/json_reader.hpp"
#include "logging/json_text.hpp"
#include "shipper/exporter_http.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace runner::shipper {

namespace {

constexpr std::size_t kMaxRequestBytes = 10 * 1024 * 1024;

struct ElasticsearchSettings {
  std::string url;
  std::string index;
  std::size_t chunk = SIZE_MAX;      // documents per request
  std::vector<std::string> headers;  // Kestra's connection.headers
  std::optional<BasicAuth> auth;
  std::optional<std::string> api_key;
  std::chrono::milliseconds timeout{30000};
};

class ElasticsearchExporter final : public HttpExporterBase {
 public:
  ElasticsearchExporter(std::string id, std::string type, ElasticsearchSettings settings,
                        std::vector<std::string> secrets)
      : HttpExporterBase(std::move(id), std::move(type), settings.timeout, std::move(secrets)),
        settings_(std::move(settings)),
        bulk_url_(settings_.url + "/_bulk") {
    headers_ = {"Content-Type: application/x-ndjson", "Accept: application/json"};
    if (settings_.api_key) headers_.push_back("Authorization: ApiKey " + *settings_.api_key);
    headers_.insert(headers_.end(), settings_.headers.begin(), settings_.headers.end());
    action_prefix_ = R"({"index":{"_index":)";
    logging::append_json_string(action_prefix_, settings_.index);
    action_prefix_ += R"(,"_id":)";
  }

  void send(const std::vector<ShippedEvent>& batch) override {
    std::size_t first = 0;
    while (first < batch.size()) {
      body_.clear();
      std::size_t end = first;
      while (end < batch.size() && end - first < settings_.chunk &&
             (end == first || body_.size() < kMaxRequestBytes)) {
        append_document(batch[end]);
        ++end;
      }
      const std::string what =
          first == 0 && end == batch.size()
              ? std::string()
              : fmt::format("events {}-{} of {}", first + 1, end, batch.size());
      const HttpResponse response = post(bulk_url_, headers_, body_, settings_.auth, what);
      check_bulk_answer(response, end - first, what);
      first = end;
    }
  }

 private:
  void append_document(const ShippedEvent& shipped) {
    const store::StoredEvent& e = shipped.event;
    const std::string id = e.id();
    body_ += action_prefix_;
    logging::append_json_string(body_, id);
    body_ += "}}\n";
    body_ += R"({"@timestamp":")";
    time_.append(body_, e.time);
    body_ += R"(","message":)";
    logging::append_json_string(body_, e.message);
    body_ += R"(,"level":")";
    body_ += logging::level_name(e.level);
    body_ += R"(","source":)";
    logging::append_json_string(body_, e.source);
    body_ += R"(,"event_id":)";
    logging::append_json_string(body_, id);
    append_job_members(body_, shipped);
    if (auto fields = parse_fields(e.fields)) {
      body_ += R"(,"fields":)";
      body_ += fields->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    body_ += "}\n";
  }

  // HTTP 2xx is not enough: the Bulk API answers 200 with per-item errors.
  void check_bulk_answer(const HttpResponse& response, std::size_t documents,
                         const std::string& what) {
    const std::string part = what.empty() ? std::string() : fmt::format(" ({})", what);
    const nlohmann::json answer = logging::read_json_or_discarded(response.body);
    if (answer.is_discarded() || !answer.is_object() || !answer.contains("errors") ||
        !answer["errors"].is_boolean()) {
      fail(fmt::format("POST {}{}: HTTP {} but the answer is not a bulk response: {}",
                       display_url(bulk_url_), part, response.status, body_excerpt(response.body)));
    }
    if (!answer["errors"].get<bool>()) return;
    std::size_t failed = 0;
    std::string first_error;
    const auto items = answer.find("items");
    if (items != answer.end() && items->is_array()) {
      for (const auto& item : *items) {
        if (!item.is_object() || item.empty()) continue;
        const nlohmann::json& result = item.begin().value();
        if (!result.is_object()) continue;
        const auto error = result.find("error");
        if (error == result.end() || error->is_null()) continue;
        ++failed;
        if (first_error.empty()) {
          std::string type = "error";
          std::string reason;
          if (error->is_object()) {
            type = error->value("type", "error");
            reason = error->value("reason", "");
          } else if (error->is_string()) {
            reason = error->get<std::string>();
          }
          first_error =
              fmt::format("_id {} (status {}): {}{}{}", result.value("_id", std::string("?")),
                          result.value("status", 0), type, reason.empty() ? "" : ": ", reason);
        }
      }
    }
    if (first_error.empty()) first_error = "no item error given";
    fail(fmt::format("POST {}{}: {} of {} documents failed; first: {}", display_url(bulk_url_),
                     part, failed, documents, body_excerpt(first_error)));
  }

  ElasticsearchSettings settings_;
  std::string bulk_url_;
  std::vector<std::string> headers_;
  std::string action_prefix_;
  std::string body_;
  TimeFormatter time_;
};

}  // namespace

namespace {

// Kestra's `connection` object: hosts (the first is used), basicAuth, headers, pathPrefix.
void read_kestra_connection(ExporterProperties& properties, const nlohmann::json& connection,
                            ElasticsearchSettings& settings, std::optional<std::string>& username,
                            std::optional<std::string>& password,
                            std::vector<std::string>& secrets) {
  if (!connection.is_object()) {
    properties.wrong_type("connection", "an object with hosts, basicAuth, headers, pathPrefix",
                          connection, false);
  }
  std::string path_prefix;
  for (const auto& [key, value] : connection.items()) {
    const std::string name = "connection." + key;
    if (key == "hosts") {
      if (!value.is_array() || value.empty() || !value[0].is_string())
        properties.wrong_type(name, "a list of http(s) URLs", value);
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) properties.wrong_type(name, "a list of http(s) URLs", value);
        const std::string url =
            properties.check_url(fmt::format("{}[{}]", name, i), value[i].get<std::string>());
        if (i == 0) settings.url = url;  // runner sends to the first host
      }
    } else if (key == "basicAuth") {
      if (!value.is_object()) {
        properties.wrong_type(name, "an object with username and password", value, false);
      }
      for (const auto& [auth_key, auth_value] : value.items()) {
        if (auth_key == "username") {
          username = properties.credential_value(name + ".username", auth_value);
        } else if (auth_key == "password") {
          password = properties.credential_value(name + ".password", auth_value);
        } else {
          properties.fail(name + "." + auth_key, "unknown property (known: username, password)");
        }
      }
    } else if (key == "headers") {
      if (!value.is_array()) properties.wrong_type(name, "a list of \"Name: value\"", value, false);
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string item = fmt::format("{}[{}]", name, i);
        if (!value[i].is_string()) properties.wrong_type(item, "\"Name: value\"", value[i], false);
        const std::string& text = value[i].get_ref<const std::string&>();
        const std::size_t colon = text.find(':');
        if (colon == std::string::npos) properties.fail(item, "expected \"Name: value\"");
        const std::string header_name = text.substr(0, colon);
        std::string header_value = text.substr(colon + 1);
        header_value.erase(0, header_value.find_first_not_of(' '));
        header_value = properties.credential_value(item, header_value);
        const std::string problem = header_problem(header_name, header_value);
        if (!problem.empty()) properties.fail(item, problem);
        settings.headers.push_back(header_name + ": " + header_value);
        if (header_value.size() >= 4) secrets.push_back(header_value);
      }
    } else if (key == "pathPrefix") {
      if (!value.is_string()) properties.wrong_type(name, "a path such as /search", value);
      std::string prefix = value.get<std::string>();
      while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
      if (!prefix.empty() && prefix.front() != '/') prefix.insert(0, "/");
      path_prefix = prefix;
    } else {
      properties.fail(name, "unknown property (known: hosts, basicAuth, headers, pathPrefix)");
    }
  }
  if (settings.url.empty()) properties.fail("connection.hosts", "is required (a list of URLs)");
  settings.url += path_prefix;
}

bool is_index_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  if (name[0] == '-' || name[0] == '_' || name[0] == '+') return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || c == '\\' || c == '/' || c == '*' || c == '?' || c == '"' ||
           c == '<' || c == '>' || c == '|' || c == ' ' || c == ',' || c == '#' || c == ':';
  });
}

}  // namespace

std::unique_ptr<LogExporter> make_elasticsearch_exporter(ExporterProperties& properties) {
  ElasticsearchSettings settings;
  std::vector<std::string> secrets;
  std::optional<std::string> username;
  std::optional<std::string> password;
  if (const nlohmann::json* connection = properties.raw("connection")) {  // Kestra's form
    if (properties.has("url")) {
      properties.fail("connection", "url and connection.hosts say the same: set one of them");
    }
    read_kestra_connection(properties, *connection, settings, username, password, secrets);
  } else {
    settings.url = properties.required_url("url");
  }
  const std::string index_name = properties.pick({"index", "indexName"});
  settings.index = properties.string_or(index_name, "runner-logs");
  if (!is_index_name(settings.index)) {
    properties.fail(index_name,
                    fmt::format("expected an index name (lower case, none of \\/*?\"<>| ,#:, not "
                                "starting with -, _ or +), got \"{}\"",
                                settings.index));
  }
  if (!username)
    username = properties.credential("username");
  else if (properties.has("username"))
    properties.fail("username", "already in connection.basicAuth");
  if (!password)
    password = properties.credential("password");
  else if (properties.has("password"))
    properties.fail("password", "already in connection.basicAuth");
  settings.api_key = properties.credential("apiKey");
  if (username.has_value() != password.has_value()) {
    properties.fail(username ? "password" : "username",
                    "username and password go together: set both or neither");
  }
  if (username && settings.api_key) {
    properties.fail("apiKey", "use either apiKey or username/password, not both");
  }
  if (username) {
    settings.auth = BasicAuth{*username, *password};
    secrets.push_back(*password);
  }
  if (settings.api_key) secrets.push_back(*settings.api_key);
  settings.chunk = static_cast<std::size_t>(
      properties.integer("chunk", 1, 1'000'000).value_or(static_cast<std::int64_t>(1'000'000)));
  settings.timeout = properties.timeout("timeout", std::chrono::seconds(30));
  return std::make_unique<ElasticsearchExporter>(properties.id(), properties.type(),
                                                 std::move(settings), std::move(secrets));
}

}  // namespace runner::shipper

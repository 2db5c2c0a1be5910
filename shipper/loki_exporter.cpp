// The `loki` exporter: see the header.
#include "shipper/loki_exporter.hpp"

#include "logging/json_text.hpp"
#include "shipper/exporter_http.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace runner::shipper {

namespace {

constexpr std::size_t kMaxRequestBytes = 3 * 1024 * 1024;
constexpr std::string_view kPushPath = "/loki/api/v1/push";

struct LokiSettings {
  std::string url;
  std::optional<std::string> tenant_id;
  std::optional<BasicAuth> auth;
  std::vector<std::pair<std::string, std::string>> labels;  // static
  std::chrono::milliseconds timeout{30000};
};

bool is_label_name(std::string_view name) {
  if (name.empty()) return false;
  const auto first = static_cast<unsigned char>(name[0]);
  if (std::isalpha(first) == 0 && first != '_') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

class LokiExporter final : public HttpExporterBase {
 public:
  LokiExporter(std::string id, std::string type, LokiSettings settings,
               std::vector<std::string> secrets)
      : HttpExporterBase(std::move(id), std::move(type), settings.timeout, std::move(secrets)),
        settings_(std::move(settings)) {
    headers_ = {"Content-Type: application/json"};
    if (settings_.tenant_id) headers_.push_back("X-Scope-OrgID: " + *settings_.tenant_id);
    // The default job="runner" label unless the static labels name their own job.
    stream_prefix_ = R"({"stream":{)";
    const bool own_job = std::any_of(settings_.labels.begin(), settings_.labels.end(),
                                     [](const auto& label) { return label.first == "job"; });
    if (!own_job) stream_prefix_ += R"("job":"runner",)";
    for (const auto& [name, value] : settings_.labels) {
      logging::append_json_string(stream_prefix_, name);
      stream_prefix_ += ':';
      logging::append_json_string(stream_prefix_, value);
      stream_prefix_ += ',';
    }
  }

  void send(const std::vector<ShippedEvent>& batch) override {
    std::size_t first = 0;
    while (first < batch.size()) {
      // Cut by an estimate of the request size: the line plus its labels and timestamp.
      std::size_t end = first;
      std::size_t estimate = 0;
      while (end < batch.size() && (end == first || estimate < kMaxRequestBytes)) {
        const store::StoredEvent& e = batch[end].event;
        estimate += e.message.size() + e.fields.size() + e.job_id.size() * 2 + 160;
        ++end;
      }
      build_body(batch, first, end);
      const std::string what =
          first == 0 && end == batch.size()
              ? std::string()
              : fmt::format("events {}-{} of {}", first + 1, end, batch.size());
      post(push_url(), headers_, body_, settings_.auth, what);
      first = end;
    }
  }

 private:
  const std::string& push_url() const { return settings_.url; }

  void build_body(const std::vector<ShippedEvent>& batch, std::size_t first, std::size_t end) {
    // Streams in the order they first appear; entries of a stream in time order (the batch
    // comes in (time, id) order; the stable sort only guards that).
    std::map<std::string, std::size_t> index;
    std::vector<std::vector<const ShippedEvent*>> streams;
    for (std::size_t i = first; i < end; ++i) {
      const ShippedEvent& shipped = batch[i];
      std::string key = shipped.namespace_name;
      key += '\0';
      key += logging::level_name(shipped.event.level);
      key += '\0';
      key += shipped.event.source;
      const auto [it, added] = index.emplace(std::move(key), streams.size());
      if (added) streams.emplace_back();
      streams[it->second].push_back(&shipped);
    }
    body_ = R"({"streams":[)";
    for (std::size_t s = 0; s < streams.size(); ++s) {
      auto& entries = streams[s];
      std::stable_sort(entries.begin(), entries.end(),
                       [](const ShippedEvent* a, const ShippedEvent* b) {
                         return a->event.time < b->event.time;
                       });
      const ShippedEvent& head = *entries.front();
      if (s != 0) body_ += ',';
      body_ += stream_prefix_;
      body_ += R"("namespace":)";
      logging::append_json_string(body_, head.namespace_name);
      body_ += R"(,"level":")";
      body_ += logging::level_name(head.event.level);
      body_ += R"(","source":)";
      logging::append_json_string(body_, head.event.source);
      body_ += R"(},"values":[)";
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i != 0) body_ += ',';
        append_entry(*entries[i]);
      }
      body_ += "]}";
    }
    body_ += "]}";
  }

  void append_entry(const ShippedEvent& shipped) {
    const store::StoredEvent& e = shipped.event;
    body_ += "[\"";
    append_int(body_, epoch_micros(e.time) * 1000);
    body_ += "\",";
    line_ = R"({"message":)";
    logging::append_json_string(line_, e.message);
    line_ += R"(,"id":)";
    logging::append_json_string(line_, e.id());
    line_ += R"(,"job_id":)";
    logging::append_json_string(line_, e.job_id);
    line_ += R"(,"component_id":)";
    logging::append_json_string(line_, shipped.component_id);
    line_ += R"(,"seq":)";
    append_uint(line_, e.sequence);
    if (auto fields = parse_fields(e.fields)) {
      line_ += R"(,"fields":)";
      line_ += fields->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    line_ += '}';
    logging::append_json_string(body_, line_);
    body_ += ']';
  }

  LokiSettings settings_;
  std::vector<std::string> headers_;
  std::string stream_prefix_;  // {"stream":{"job":"runner",<static labels>,
  std::string body_;
  std::string line_;
};

}  // namespace

std::unique_ptr<LogExporter> make_loki_exporter(ExporterProperties& properties) {
  LokiSettings settings;
  settings.url = properties.required_url("url");
  if (settings.url.size() < kPushPath.size() ||
      settings.url.compare(settings.url.size() - kPushPath.size(), kPushPath.size(), kPushPath) !=
          0) {
    settings.url += kPushPath;
  }
  settings.tenant_id = properties.string("tenantId");
  if (settings.tenant_id) {
    const std::string problem = header_problem("X-Scope-OrgID", *settings.tenant_id);
    if (!problem.empty() || settings.tenant_id->empty())
      properties.fail("tenantId", problem.empty() ? "expected a non-empty string" : problem);
  }
  const auto username = properties.credential("username");
  const auto password = properties.credential("password");
  if (username.has_value() != password.has_value()) {
    properties.fail(username ? "password" : "username",
                    "username and password go together: set both or neither");
  }
  std::vector<std::string> secrets;
  if (username) {
    settings.auth = BasicAuth{*username, *password};
    secrets.push_back(*password);
  }
  for (const auto& [name, value] : properties.string_map("labels", false)) {
    if (!is_label_name(name) || name.rfind("__", 0) == 0) {
      properties.fail("labels." + name,
                      "a label name is a letter or '_' followed by letters, digits and '_' "
                      "(names starting with \"__\" are Loki's own)");
    }
    if (name == "namespace" || name == "level" || name == "source") {
      properties.fail("labels." + name,
                      "namespace, level and source are set from each event: pick another name");
    }
    if (value.empty()) properties.fail("labels." + name, "expected a non-empty label value");
    settings.labels.emplace_back(name, value);
  }
  settings.timeout = properties.timeout("timeout", std::chrono::seconds(30));
  return std::make_unique<LokiExporter>(properties.id(), properties.type(), std::move(settings),
                                        std::move(secrets));
}

}  // namespace runner::shipper

// The `datadog` exporter: see the header.
#include "shipper/datadog_exporter.hpp"

#include "common/host_name.hpp"
#include "logging/json_text.hpp"
#include "shipper/exporter_http.hpp"

#include <fmt/format.h>

namespace runner::shipper {

namespace {

// Datadog's documented limits per request (decimal megabytes, to stay on the safe side).
constexpr std::size_t kMaxLogsPerRequest = 1000;
constexpr std::size_t kMaxPayloadBytes = 5'000'000;
constexpr std::size_t kMaxLogBytes = 1'000'000;

struct DatadogSettings {
  std::string url;
  std::size_t chunk = kMaxLogsPerRequest;
  std::string api_key;
  std::string service;
  std::string ddsource;
  std::optional<std::string> ddtags;
  std::string hostname;
  std::chrono::milliseconds timeout{30000};
};

class DatadogExporter final : public HttpExporterBase {
 public:
  DatadogExporter(std::string id, std::string type, DatadogSettings settings)
      : HttpExporterBase(std::move(id), std::move(type), settings.timeout, {settings.api_key}),
        settings_(std::move(settings)) {
    headers_ = {"Content-Type: application/json", "Accept: application/json",
                "DD-API-KEY: " + settings_.api_key};
    common_ = R"({"ddsource":)";
    logging::append_json_string(common_, settings_.ddsource);
    if (settings_.ddtags) {
      common_ += R"(,"ddtags":)";
      logging::append_json_string(common_, *settings_.ddtags);
    }
    common_ += R"(,"hostname":)";
    logging::append_json_string(common_, settings_.hostname);
    common_ += R"(,"service":)";
    logging::append_json_string(common_, settings_.service);
  }

  void send(const std::vector<ShippedEvent>& batch) override {
    std::size_t first = 0;
    while (first < batch.size()) {
      body_ = "[";
      std::size_t end = first;
      while (end < batch.size() && end - first < settings_.chunk) {
        build_entry(batch[end]);
        // +2: the comma and the closing bracket.
        if (end != first && body_.size() + entry_.size() + 2 > kMaxPayloadBytes) break;
        if (end != first) body_ += ',';
        body_ += entry_;
        ++end;
      }
      body_ += ']';
      const std::string what =
          first == 0 && end == batch.size()
              ? std::string()
              : fmt::format("events {}-{} of {}", first + 1, end, batch.size());
      post(settings_.url, headers_, body_, std::nullopt, what);
      first = end;
    }
  }

 private:
  // entry_ = one log object, cut to kMaxLogBytes.
  void build_entry(const ShippedEvent& shipped) {
    const std::optional<nlohmann::json> fields = parse_fields(shipped.event.fields);
    std::string_view message = shipped.event.message;
    bool truncated = false;
    bool with_fields = fields.has_value();
    for (;;) {
      write_entry(shipped, message, truncated, with_fields ? &*fields : nullptr);
      if (entry_.size() <= kMaxLogBytes) return;
      const std::size_t over = entry_.size() - kMaxLogBytes;
      // Cutting n bytes of text removes at least n bytes of JSON: one cut is enough.
      if (message.size() > over) {
        message = utf8_prefix(message, message.size() - over);
      } else if (with_fields) {
        with_fields = false;  // the fields alone are too big: leave them out
      } else if (!message.empty()) {
        message = {};
      } else {
        return;  // cannot happen with sane ids and names; Datadog truncates it then
      }
      truncated = true;
    }
  }

  void write_entry(const ShippedEvent& shipped, std::string_view message, bool truncated,
                   const nlohmann::json* fields) {
    const store::StoredEvent& e = shipped.event;
    entry_ = common_;
    entry_ += R"(,"message":)";
    logging::append_json_string(entry_, message);
    entry_ += R"(,"status":")";
    entry_ += logging::level_name(e.level);
    entry_ += R"(","timestamp":)";
    append_int(entry_, epoch_micros(e.time) / 1000);
    entry_ += R"(,"runner":{"event_id":)";
    logging::append_json_string(entry_, e.id());
    append_job_members(entry_, shipped);
    entry_ += R"(,"source":)";
    logging::append_json_string(entry_, e.source);
    entry_ += R"(,"time":")";
    time_.append(entry_, e.time);
    entry_ += '"';
    if (truncated) entry_ += R"(,"truncated":true)";
    entry_ += '}';
    if (fields != nullptr) {
      entry_ += R"(,"fields":)";
      entry_ += fields->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    entry_ += '}';
  }

  DatadogSettings settings_;
  std::vector<std::string> headers_;
  std::string common_;
  std::string entry_;
  std::string body_;
  TimeFormatter time_;
};

}  // namespace

std::unique_ptr<LogExporter> make_datadog_exporter(ExporterProperties& properties) {
  DatadogSettings settings;
  const auto api_key = properties.credential("apiKey");
  if (!api_key)
    properties.fail("apiKey", "is required (a Datadog API key, e.g. \"${DD_API_KEY}\")");
  settings.api_key = *api_key;
  if (const std::string problem = header_problem("DD-API-KEY", settings.api_key);
      !problem.empty()) {
    properties.fail("apiKey", problem);
  }
  const auto site = properties.string("site");
  const std::string url_name = properties.pick({"url", "basePath"});  // basePath: Kestra's
  const auto url = properties.url(url_name);
  if (site && url) properties.fail(url_name, "use either site or " + url_name + ", not both");
  if (url) {
    settings.url = url_has_path(*url) ? *url : *url + "/api/v2/logs";
  } else {
    const std::string site_name = site.value_or("datadoghq.com");
    const bool site_ok =
        !site_name.empty() && std::all_of(site_name.begin(), site_name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
        });
    if (!site_ok) {
      properties.fail("site", fmt::format("expected a Datadog site such as datadoghq.com or "
                                          "datadoghq.eu, got \"{}\"",
                                          site_name));
    }
    settings.url = fmt::format("https://http-intake.logs.{}/api/v2/logs", site_name);
  }
  settings.chunk = static_cast<std::size_t>(
      properties.integer("chunk", 1, kMaxLogsPerRequest).value_or(kMaxLogsPerRequest));
  settings.service = properties.string_or("service", "runner");
  settings.ddsource = properties.string_or("ddsource", "runner");
  settings.ddtags = properties.string("ddtags");
  settings.hostname = properties.string_or("hostname", host_name());
  settings.timeout = properties.timeout("timeout", std::chrono::seconds(30));
  return std::make_unique<DatadogExporter>(properties.id(), properties.type(), std::move(settings));
}

}  // namespace runner::shipper

// The `opentelemetry` exporter: see the header.
#include "shipper/opentelemetry_exporter.hpp"

#include "logging/json_reader.hpp"
#include "logging/json_text.hpp"
#include "shipper/exporter_http.hpp"

#include <fmt/format.h>

#include <cmath>

namespace runner::shipper {

namespace {

// The OpenTelemetry Collector's default limit for a request body is 20 MiB; stay well below.
constexpr std::size_t kMaxRequestBytes = 8 * 1024 * 1024;

constexpr std::string_view kReservedKeys[] = {"event.id",     "job.id", "namespace",
                                              "component.id", "source", "sequence"};

struct OtelSettings {
  std::string url;
  std::size_t chunk = SIZE_MAX;  // records per request
  std::vector<std::string> headers;
  std::string service_name;
  std::chrono::milliseconds timeout{30000};
};

void append_key(std::string& out, std::string_view key) {
  out += R"({"key":)";
  logging::append_json_string(out, key);
  out += R"(,"value":{)";
}

void append_string_attribute(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  out += R"("stringValue":)";
  logging::append_json_string(out, value);
  out += "}}";
}

// One field as an OTLP attribute; false for a null (left out).
bool append_field_attribute(std::string& out, const std::string& key, const nlohmann::json& value) {
  if (value.is_null()) return false;
  append_key(out, key);
  if (value.is_string()) {
    out += R"("stringValue":)";
    logging::append_json_string(out, value.get_ref<const std::string&>());
  } else if (value.is_boolean()) {
    out += value.get<bool>() ? R"("boolValue":true)" : R"("boolValue":false)";
  } else if (value.is_number_unsigned() &&
             value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    out += R"("doubleValue":)";
    out += nlohmann::json(value.get<double>()).dump();
  } else if (value.is_number_integer()) {
    out += R"("intValue":")";  // int64: a decimal string in OTLP JSON
    append_int(out, value.get<std::int64_t>());
    out += '"';
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d)) {
      out += R"("doubleValue":)";
      out += nlohmann::json(d).dump();
    } else {
      out += R"("stringValue":)";
      logging::append_json_string(out, std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"));
    }
  } else {
    out += R"("stringValue":)";
    logging::append_json_string(
        out, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  out += "}}";
  return true;
}

bool is_reserved(std::string_view key) {
  for (std::string_view reserved : kReservedKeys)
    if (key == reserved) return true;
  return false;
}

class OpenTelemetryExporter final : public HttpExporterBase {
 public:
  OpenTelemetryExporter(std::string id, std::string type, OtelSettings settings,
                        std::vector<std::string> secrets)
      : HttpExporterBase(std::move(id), std::move(type), settings.timeout, std::move(secrets)),
        settings_(std::move(settings)) {
    headers_ = settings_.headers;
    headers_.insert(headers_.begin(), "Content-Type: application/json");
    prefix_ = R"({"resourceLogs":[{"resource":{"attributes":[)";
    append_string_attribute(prefix_, "service.name", settings_.service_name);
    prefix_ += R"(]},"scopeLogs":[{"scope":{"name":"runner"},"logRecords":[)";
  }

  void send(const std::vector<ShippedEvent>& batch) override {
    std::size_t first = 0;
    while (first < batch.size()) {
      body_ = prefix_;
      std::size_t end = first;
      while (end < batch.size() && end - first < settings_.chunk &&
             (end == first || body_.size() < kMaxRequestBytes)) {
        if (end != first) body_ += ',';
        append_record(batch[end]);
        ++end;
      }
      body_ += "]}]}]}";
      const std::string what =
          first == 0 && end == batch.size()
              ? std::string()
              : fmt::format("events {}-{} of {}", first + 1, end, batch.size());
      const HttpResponse response = post(settings_.url, headers_, body_, std::nullopt, what);
      check_partial_success(response, what);
      first = end;
    }
  }

 private:
  void append_record(const ShippedEvent& shipped) {
    const store::StoredEvent& e = shipped.event;
    const std::int64_t nanos = epoch_micros(e.time) * 1000;
    body_ += R"({"timeUnixNano":")";
    append_int(body_, nanos);
    body_ += R"(","observedTimeUnixNano":")";
    append_int(body_, nanos);
    body_ += R"(","severityNumber":)";
    append_int(body_, otel_severity_number(e.level));
    body_ += R"(,"severityText":")";
    body_ += logging::level_name(e.level);
    body_ += R"(","body":{"stringValue":)";
    logging::append_json_string(body_, e.message);
    body_ += R"(},"attributes":[)";
    append_string_attribute(body_, "event.id", e.id());
    body_ += ',';
    append_string_attribute(body_, "job.id", e.job_id);
    body_ += ',';
    append_string_attribute(body_, "namespace", shipped.namespace_name);
    body_ += ',';
    append_string_attribute(body_, "component.id", shipped.component_id);
    body_ += ',';
    append_string_attribute(body_, "source", e.source);
    body_ += R"(,{"key":"sequence","value":{"intValue":")";
    append_uint(body_, e.sequence);
    body_ += R"("}})";
    if (auto fields = parse_fields(e.fields)) {
      for (const auto& [key, value] : fields->items()) {
        const std::string name = is_reserved(key) ? "fields." + key : key;
        const std::size_t mark = body_.size();
        body_ += ',';
        if (!append_field_attribute(body_, name, value)) body_.resize(mark);
      }
    }
    body_ += "]}";
  }

  // OTLP: a 2xx answer may still reject part of the request (partialSuccess).
  void check_partial_success(const HttpResponse& response, const std::string& what) {
    if (response.body.empty()) return;
    const nlohmann::json answer = logging::read_json_or_discarded(response.body);
    if (answer.is_discarded() || !answer.is_object()) return;  // e.g. a protobuf answer
    const auto partial = answer.find("partialSuccess");
    if (partial == answer.end() || !partial->is_object()) return;
    std::int64_t rejected = 0;
    const auto count = partial->find("rejectedLogRecords");
    if (count != partial->end()) {
      if (count->is_number_integer()) {
        rejected = count->get<std::int64_t>();
      } else if (count->is_string()) {
        try {
          rejected = std::stoll(count->get<std::string>());
        } catch (const std::exception&) {
          rejected = 0;
        }
      }
    }
    if (rejected <= 0) return;
    const std::string message = partial->value("errorMessage", std::string());
    fail(fmt::format("POST {}{}: the receiver rejected {} log records{}{}",
                     display_url(settings_.url),
                     what.empty() ? std::string() : fmt::format(" ({})", what), rejected,
                     message.empty() ? "" : ": ", body_excerpt(message)));
  }

  OtelSettings settings_;
  std::vector<std::string> headers_;
  std::string prefix_;
  std::string body_;
};

}  // namespace

std::unique_ptr<LogExporter> make_opentelemetry_exporter(ExporterProperties& properties) {
  OtelSettings settings;
  settings.url = properties.required_url(properties.pick({"endpoint", "otlpEndpoint"}));
  if (!url_has_path(settings.url)) settings.url += "/v1/logs";
  std::vector<std::pair<std::string, std::string>> headers = properties.string_map("headers", true);
  // Kestra's pair of properties for one authorization header.
  const auto auth_name = properties.string("authorizationHeaderName");
  const auto auth_value = properties.credential("authorizationHeaderValue");
  if (auth_name.has_value() != auth_value.has_value()) {
    properties.fail(auth_name ? "authorizationHeaderValue" : "authorizationHeaderName",
                    "authorizationHeaderName and authorizationHeaderValue go together");
  }
  if (auth_name) headers.emplace_back(*auth_name, *auth_value);
  std::vector<std::string> secrets;
  for (const auto& [name, value] : headers) {
    const std::string problem = header_problem(name, value);
    if (!problem.empty()) properties.fail("headers." + name, problem);
    settings.headers.push_back(name + ": " + value);
    // Any header may carry a credential (Authorization, X-API-Key, ...): hide every value in
    // messages, except tiny ones ("1", "yes") that would blank out unrelated text.
    if (value.size() >= 4) secrets.push_back(value);
  }
  settings.service_name = properties.string_or("serviceName", "runner");
  if (const auto chunk = properties.integer("chunk", 1, 1'000'000))
    settings.chunk = static_cast<std::size_t>(*chunk);
  settings.timeout = properties.timeout("timeout", std::chrono::seconds(30));
  return std::make_unique<OpenTelemetryExporter>(properties.id(), properties.type(),
                                                 std::move(settings), std::move(secrets));
}

}  // namespace runner::shipper

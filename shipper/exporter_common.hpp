// Pieces every exporter shares: reading and validating its properties (ExporterProperties), the
// base class that holds id and type, level mappings (syslog, OpenTelemetry), fast time
// formatting, and hiding credential values in error texts.
#pragma once

#include "secrets/config_cipher.hpp"  // KeyLookup returns an EncryptionKey
#include "shipper/log_exporter.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace runner::shipper {

// Reads one `logExporters` entry. Every accessor checks the property's JSON type and range and
// remembers the name; finish() then rejects properties no accessor asked for (typos). Errors
// are ExporterConfigError "<where>.<property> (exporter "<id>"): expected ..., got ...";
// credential values are never quoted.
class ExporterProperties {
 public:
  ExporterProperties(const nlohmann::json& config, std::string where, const KeyLookup& key);

  const std::string& id() const { return id_; }
  const std::string& type() const { return type_; }
  const std::string& where() const { return where_; }

  bool has(std::string_view name) const;
  // Of a property's names (runner's own first, then Kestra's, e.g. {"filePrefix",
  // "logFilePrefix"}), the one the entry uses (the first when it uses none); both is an error.
  std::string pick(std::initializer_list<std::string_view> names) const;
  // The value as it is (null when absent), for properties of more than one JSON type.
  const nlohmann::json* raw(std::string_view name) { return get(name); }
  std::optional<std::string> string(std::string_view name);
  std::string string_or(std::string_view name, std::string_view fallback);
  std::string required_string(std::string_view name);
  std::optional<std::int64_t> integer(std::string_view name, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(std::string_view name);
  // A string resolved with resolve_credential (environment variable or RUNNER::ENC:: value).
  std::optional<std::string> credential(std::string_view name);
  // An object of string values; `credentials` resolves every value with resolve_credential.
  std::vector<std::pair<std::string, std::string>> string_map(std::string_view name,
                                                              bool credentials);
  // An http:// or https:// URL with a host; returned without a trailing slash.
  std::string required_url(std::string_view name);
  std::optional<std::string> url(std::string_view name);
  // The same checks for values inside nested properties (`name` is their path, "a.b[0]").
  std::string check_url(std::string_view name, std::string text) const;
  std::string credential_value(std::string_view name, const nlohmann::json& value) const;
  // `timeout`: seconds as a number, or an ISO-8601 duration ("PT30S", "PT1M", "PT0.5S").
  std::chrono::milliseconds timeout(std::string_view name, std::chrono::milliseconds fallback);
  // Rejects properties nobody asked for.
  void finish() const;

  [[noreturn]] void fail(std::string_view name, std::string_view message) const;
  // "expected <expected>, got <value>" (or only its JSON type when quote_value is false).
  [[noreturn]] void wrong_type(std::string_view name, std::string_view expected,
                               const nlohmann::json& got, bool quote_value = true) const;
  std::string describe(std::string_view name) const;  // "<where>.<name> (exporter "<id>")"

 private:
  const nlohmann::json* get(std::string_view name);

  const nlohmann::json& config_;
  std::string where_;
  const KeyLookup& key_;
  std::string id_;
  std::string type_;
  std::set<std::string, std::less<>> asked_;
};

// Holds id and type; exporters derive from it.
class ExporterBase : public LogExporter {
 public:
  ExporterBase(std::string id, std::string type) : id_(std::move(id)), type_(std::move(type)) {}
  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }

 protected:
  // "<type> exporter "<id>": " for ExportError texts.
  std::string error_prefix() const;

 private:
  std::string id_;
  std::string type_;
};

// Replaces every non-empty secret in `text` with "[hidden]" (and their JSON-escaped forms).
std::string hide_secrets(std::string text, const std::vector<std::string>& secrets);

// Syslog severity of a level: emergency 0 ... debug 7 (runner's enum is debug 0 ... emergency 7).
int syslog_severity(logging::Level level);
// OpenTelemetry SeverityNumber: debug 5, info 9, notice 10, warning 13, error 17, critical 18,
// alert 19, emergency 21.
int otel_severity_number(logging::Level level);

// Microseconds since the Unix epoch.
inline std::int64_t epoch_micros(logging::EventTime t) {
  return t.time_since_epoch().count();
}

// Appends "2026-11-21T11:54:14.123456Z"; remembers the formatted second, so consecutive events
// of the same second cost a copy and six digits.
class TimeFormatter {
 public:
  void append(std::string& out, logging::EventTime t);

 private:
  std::int64_t second_ = INT64_MIN;
  std::string prefix_;  // "2026-11-21T11:54:14."
};

// Appends the decimal text of a number.
void append_uint(std::string& out, std::uint64_t value);
void append_int(std::string& out, std::int64_t value);

// The job members every JSON exporter puts on an event, in this order:
// ,"<prefix>job_id":..,"<prefix>sequence":N,"<prefix>namespace":..,"<prefix>component_id":..
// (prefix "" for most, "_" for GELF's additional fields).
void append_job_members(std::string& out, const ShippedEvent& shipped,
                        std::string_view key_prefix = "");

// The first `max_bytes` bytes of `text`, cut back to a UTF-8 character boundary.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// The event's stored fields parsed as a JSON object; nullopt when empty or not an object.
std::optional<nlohmann::json> parse_fields(const std::string& fields_text);

}  // namespace runner::shipper

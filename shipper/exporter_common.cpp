// Shared exporter pieces: see the header.
#include "shipper/exporter_common.hpp"

#include "logging/event.hpp"
#include "logging/json_reader.hpp"
#include "logging/json_text.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <memory>

namespace runner::shipper {

namespace {

std::string json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "a value";
  }
}

// A short, safe rendering of a (non-secret) value for messages.
std::string show(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 80) text = std::string(utf8_prefix(text, 77)) + "...";
  return text;
}

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// Parses an ISO-8601 duration (PnDTnHnMn.nS, also PnW); nullopt when it is not one.
std::optional<double> parse_iso_duration(std::string_view text) {
  if (text.size() < 3 || (text[0] != 'P' && text[0] != 'p')) return std::nullopt;
  double seconds = 0;
  bool in_time = false;
  bool any = false;
  std::size_t i = 1;
  while (i < text.size()) {
    char c = text[i];
    if (c == 'T' || c == 't') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() &&
           ((text[i] >= '0' && text[i] <= '9') || text[i] == '.' || text[i] == ',')) {
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;
    std::string number(text.substr(start, i - start));
    for (char& ch : number)
      if (ch == ',') ch = '.';
    double value = 0;
    try {
      std::size_t used = 0;
      value = std::stod(number, &used);
      if (used != number.size()) return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
    const char unit = static_cast<char>(text[i] & ~0x20);  // upper case
    ++i;
    if (!in_time && unit == 'W') {
      seconds += value * 7 * 86400;
    } else if (!in_time && unit == 'D') {
      seconds += value * 86400;
    } else if (in_time && unit == 'H') {
      seconds += value * 3600;
    } else if (in_time && unit == 'M') {
      seconds += value * 60;
    } else if (in_time && unit == 'S') {
      seconds += value;
    } else {
      return std::nullopt;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return seconds;
}

}  // namespace

// --- ExporterProperties ----------------------------------------------------------------------

ExporterProperties::ExporterProperties(const nlohmann::json& config, std::string where,
                                       const KeyLookup& key)
    : config_(config), where_(std::move(where)), key_(key) {
  if (!config_.is_object()) {
    throw ExporterConfigError(fmt::format("{}: expected an object with id and type, got {}", where_,
                                          json_type_name(config_)));
  }
  const auto id = config_.find("id");
  if (id == config_.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    throw ExporterConfigError(
        fmt::format("{}.id: expected a non-empty string naming the exporter, got {}", where_,
                    id == config_.end() ? std::string("nothing") : show(*id)));
  }
  id_ = id->get<std::string>();
  const bool id_ok = id_.size() <= 100 && std::none_of(id_.begin(), id_.end(), [](char c) {
                       return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                     });
  if (!id_ok) {
    throw ExporterConfigError(fmt::format(
        "{}.id: expected a name of at most 100 characters without control characters, got {}",
        where_, show(*id)));
  }
  const auto type = config_.find("type");
  if (type == config_.end() || !type->is_string()) {
    throw ExporterConfigError(
        fmt::format("{}.type (exporter \"{}\"): expected one of file, elasticsearch, opensearch, "
                    "opentelemetry, datadog, loki, gelf, syslog, got {}",
                    where_, id_, type == config_.end() ? std::string("nothing") : show(*type)));
  }
  type_ = type->get<std::string>();
  asked_.insert("id");
  asked_.insert("type");
}

std::string ExporterProperties::describe(std::string_view name) const {
  return fmt::format("{}.{} (exporter \"{}\")", where_, name, id_);
}

void ExporterProperties::fail(std::string_view name, std::string_view message) const {
  throw ExporterConfigError(fmt::format("{}: {}", describe(name), message));
}

void ExporterProperties::wrong_type(std::string_view name, std::string_view expected,
                                    const nlohmann::json& got, bool quote_value) const {
  fail(name,
       fmt::format("expected {}, got {}", expected, quote_value ? show(got) : json_type_name(got)));
}

bool ExporterProperties::has(std::string_view name) const {
  const auto it = config_.find(std::string(name));
  return it != config_.end() && !it->is_null();
}

std::string ExporterProperties::pick(std::initializer_list<std::string_view> names) const {
  std::string_view chosen;
  for (std::string_view name : names) {
    if (!has(name)) continue;
    if (!chosen.empty()) {
      fail(name, fmt::format("{} and {} are the same property: set one of them", chosen, name));
    }
    chosen = name;
  }
  return std::string(chosen.empty() ? *names.begin() : chosen);
}

const nlohmann::json* ExporterProperties::get(std::string_view name) {
  asked_.emplace(name);
  const auto it = config_.find(std::string(name));
  if (it == config_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> ExporterProperties::string(std::string_view name) {
  const nlohmann::json* value = get(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) wrong_type(name, "a string", *value);
  return value->get<std::string>();
}

std::string ExporterProperties::string_or(std::string_view name, std::string_view fallback) {
  auto value = string(name);
  if (!value) return std::string(fallback);
  if (value->empty()) fail(name, "expected a non-empty string, got \"\"");
  return *value;
}

std::string ExporterProperties::required_string(std::string_view name) {
  auto value = string(name);
  if (!value) fail(name, "is required (a non-empty string)");
  if (value->empty()) fail(name, "expected a non-empty string, got \"\"");
  return *value;
}

std::optional<std::int64_t> ExporterProperties::integer(std::string_view name, std::int64_t min,
                                                        std::int64_t max) {
  const nlohmann::json* value = get(name);
  if (value == nullptr) return std::nullopt;
  const std::string expected = fmt::format("an integer from {} to {}", min, max);
  std::int64_t number = 0;
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() &&
        value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      wrong_type(name, expected, *value);
    }
    number = value->get<std::int64_t>();
  } else if (value->is_number_float()) {
    const double d = value->get<double>();
    if (std::floor(d) != d || d < -9e18 || d > 9e18) wrong_type(name, expected, *value);
    number = static_cast<std::int64_t>(d);
  } else if (value->is_string()) {
    // YAML or hand-written JSON may quote numbers: "12201".
    const std::string& text = value->get_ref<const std::string&>();
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
      wrong_type(name, expected, *value);
  } else {
    wrong_type(name, expected, *value);
  }
  if (number < min || number > max) wrong_type(name, expected, *value);
  return number;
}

std::optional<bool> ExporterProperties::boolean(std::string_view name) {
  const nlohmann::json* value = get(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (text == "true") return true;
    if (text == "false") return false;
  }
  wrong_type(name, "true or false", *value);
}

std::optional<std::string> ExporterProperties::credential(std::string_view name) {
  const nlohmann::json* value = get(name);
  if (value == nullptr) return std::nullopt;
  return credential_value(name, *value);
}

std::string ExporterProperties::credential_value(std::string_view name,
                                                 const nlohmann::json& value) const {
  if (!value.is_string()) wrong_type(name, "a string", value, false);
  const std::string& text = value.get_ref<const std::string&>();
  if (text.empty()) fail(name, "expected a non-empty string, got \"\"");
  if (text.rfind("{{", 0) == 0) {
    fail(name,
         "Kestra expressions such as {{ secret('NAME') }} are not evaluated here: use "
         "\"${NAME}\" (an environment variable) or a RUNNER::ENC:: value (runner encrypt)");
  }
  return resolve_credential(text, fmt::format("{}.{}", where_, name), key_);
}

std::vector<std::pair<std::string, std::string>> ExporterProperties::string_map(
    std::string_view name, bool credentials) {
  std::vector<std::pair<std::string, std::string>> out;
  const nlohmann::json* value = get(name);
  if (value == nullptr) return out;
  if (!value->is_object()) wrong_type(name, "an object of string values", *value, !credentials);
  for (const auto& [key, item] : value->items()) {
    const std::string item_name = fmt::format("{}.{}", name, key);
    if (!item.is_string()) {
      wrong_type(item_name, "a string", item, !credentials);
    }
    if (credentials) {
      out.emplace_back(key, credential_value(item_name, item));
    } else {
      out.emplace_back(key, item.get<std::string>());
    }
  }
  return out;
}

std::optional<std::string> ExporterProperties::url(std::string_view name) {
  auto text = string(name);
  if (!text) return std::nullopt;
  return check_url(name, std::move(*text));
}

std::string ExporterProperties::check_url(std::string_view name, std::string text) const {
  const std::string expected = "an http:// or https:// URL with a host";
  // A URL may carry user:password@: then the value is not quoted.
  const bool quote = text.find('@') == std::string::npos;
  std::unique_ptr<CURLU, CurlUrlDeleter> parsed(curl_url());
  if (!parsed) throw std::bad_alloc();
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    wrong_type(name, expected, text, quote);
  char* scheme = nullptr;
  char* host = nullptr;
  const bool ok = curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                  curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK;
  const std::string scheme_text = scheme != nullptr ? scheme : "";
  const bool has_host = host != nullptr && *host != '\0';
  curl_free(scheme);
  curl_free(host);
  if (!ok || !has_host || (scheme_text != "http" && scheme_text != "https"))
    wrong_type(name, expected, text, quote);
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

std::string ExporterProperties::required_url(std::string_view name) {
  auto value = url(name);
  if (!value) fail(name, "is required (an http:// or https:// URL)");
  return *value;
}

std::chrono::milliseconds ExporterProperties::timeout(std::string_view name,
                                                      std::chrono::milliseconds fallback) {
  const nlohmann::json* value = get(name);
  if (value == nullptr) return fallback;
  const std::string expected =
      "seconds (a number) or an ISO-8601 duration such as \"PT30S\", from 1 ms to 1 hour";
  std::optional<double> seconds;
  if (value->is_number()) {
    seconds = value->get<double>();
  } else if (value->is_string()) {
    seconds = parse_iso_duration(value->get_ref<const std::string&>());
  }
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0.001 || *seconds > 3600)
    wrong_type(name, expected, *value);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*seconds * 1000)));
}

void ExporterProperties::finish() const {
  for (const auto& [key, value] : config_.items()) {
    if (asked_.count(key) == 0) {
      std::string known;
      for (const auto& name : asked_) {
        if (name == "id" || name == "type") continue;
        if (!known.empty()) known += ", ";
        known += name;
      }
      fail(key, fmt::format("unknown property for type {} (known: {})", type_, known));
    }
  }
}

// --- ExporterBase -----------------------------------------------------------------------------

std::string ExporterBase::error_prefix() const {
  return fmt::format("{} exporter \"{}\": ", type(), id());
}

// --- helpers ----------------------------------------------------------------------------------

std::string hide_secrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    std::vector<std::string> forms = {secret};
    const std::string escaped = nlohmann::json(secret).dump();
    if (escaped.size() > 2) forms.push_back(escaped.substr(1, escaped.size() - 2));
    for (const std::string& form : forms) {
      for (std::size_t at = text.find(form); at != std::string::npos;
           at = text.find(form, at + 8)) {
        text.replace(at, form.size(), "[hidden]");
      }
    }
  }
  return text;
}

int syslog_severity(logging::Level level) {
  return 7 - static_cast<int>(level);
}

int otel_severity_number(logging::Level level) {
  static constexpr std::array<int, 8> kNumbers = {5, 9, 10, 13, 17, 18, 19, 21};
  return kNumbers[static_cast<std::size_t>(level)];
}

void TimeFormatter::append(std::string& out, logging::EventTime t) {
  const std::int64_t us = epoch_micros(t);
  std::int64_t second = us / 1000000;
  std::int64_t micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --second;
  }
  if (second != second_) {
    second_ = second;
    const std::string full = logging::format_time(t);  // ...SS.ffffffZ
    prefix_ = full.substr(0, full.size() - 7);
  }
  out += prefix_;
  char frac[6];
  auto rest = static_cast<unsigned>(micros);
  for (int i = 5; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  out.append(frac, 6);
  out += 'Z';
}

void append_uint(std::string& out, std::uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_job_members(std::string& out, const ShippedEvent& shipped,
                        std::string_view key_prefix) {
  auto key = [&](std::string_view name) {
    out += ",\"";
    out += key_prefix;
    out += name;
    out += "\":";
  };
  key("job_id");
  logging::append_json_string(out, shipped.event.job_id);
  key("seq");  // the name --events and `runner logs --json` use (docs/events.md, schema)
  append_uint(out, shipped.event.sequence);
  key("namespace");
  logging::append_json_string(out, shipped.namespace_name);
  key("component_id");
  logging::append_json_string(out, shipped.component_id);
}

void append_int(std::string& out, std::int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) so a character is never cut.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::optional<nlohmann::json> parse_fields(const std::string& fields_text) {
  if (fields_text.empty()) return std::nullopt;
  nlohmann::json parsed = logging::read_json_or_discarded(fields_text);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

}  // namespace runner::shipper

// GelfMessage validation: see the header for the rules and why.
#include "logging/gelf/message.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

namespace runner::logging::gelf {

namespace {

using nlohmann::json;

InvalidGelfMessage invalid(std::string_view reason) {
  return InvalidGelfMessage{"Invalid message: " + std::string(reason)};
}

// True when arrays and objects nest deeper than `limit`. A byte scan that skips string contents:
// cheaper than a parser callback and done before nlohmann builds anything.
bool nests_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// A field name for a reason text: at most 64 bytes (not ending inside a UTF-8 character), quoted
// and escaped as JSON.
std::string quoted_name(std::string_view name) {
  constexpr std::size_t kMaxShown = 64;
  if (name.size() > kMaxShown) {
    std::size_t cut = kMaxShown;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name = name.substr(0, cut);
  }
  return json(std::string(name)).dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_field_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// ^[\w.\-]+$ with \w as Java and Graylog read it: ASCII letters, digits and underscore.
bool is_valid_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!is_field_name_char(c)) return false;
  }
  return true;
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<double> number_from_string(std::string_view text) {
  text = trim_spaces(text);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<int> level_from_json(const json& value) {
  double number = 0;
  if (value.is_number_integer()) {
    // Covers signed and unsigned; compare as 64-bit integers before narrowing.
    if (value.is_number_unsigned()) {
      const auto level = value.get<std::uint64_t>();
      return level <= 7 ? std::optional<int>(static_cast<int>(level)) : std::nullopt;
    }
    const auto level = value.get<std::int64_t>();
    return level >= 0 && level <= 7 ? std::optional<int>(static_cast<int>(level)) : std::nullopt;
  }
  if (value.is_number_float()) {
    number = value.get<double>();
  } else if (value.is_string()) {
    const std::optional<double> parsed = number_from_string(value.get_ref<const std::string&>());
    if (!parsed) return std::nullopt;
    number = *parsed;
  } else {
    return std::nullopt;
  }
  if (!(number >= 0 && number <= 7) || std::floor(number) != number) return std::nullopt;
  return static_cast<int>(number);
}

// A standard field that is absent or null.
const json* present_field(const json& document, const char* name) {
  const auto it = document.find(name);
  if (it == document.end() || it->is_null()) return nullptr;
  return &*it;
}

bool is_standard_field(std::string_view name) {
  return name == "version" || name == "host" || name == "short_message" || name == "message" ||
         name == "full_message" || name == "timestamp" || name == "level";
}

}  // namespace

std::optional<InvalidGelfMessage> parse_gelf_message_into(std::string_view json_text,
                                                          GelfMessage& message) {
  if (nests_deeper_than(json_text, kMaxGelfNestingDepth)) {
    return invalid("nested deeper than " + std::to_string(kMaxGelfNestingDepth) + " levels");
  }
  json document;
  try {
    document = json::parse(json_text);
  } catch (const json::parse_error& error) {
    return invalid("not valid JSON (parse error at byte " + std::to_string(error.byte) + ")");
  } catch (const json::out_of_range&) {
    return invalid("not valid JSON (a number is out of range)");  // e.g. 1e999
  } catch (const json::exception&) {
    return invalid("not valid JSON");
  }
  if (!document.is_object()) return invalid("not a JSON object");

  const json* text = present_field(document, "short_message");
  const char* text_name = "short_message";
  if (text == nullptr) {
    text = present_field(document, "message");
    text_name = "message";
  }
  if (text == nullptr) return invalid("missing short_message");
  if (!text->is_string()) return invalid(std::string(text_name) + " must be a string");

  const json* host = present_field(document, "host");
  if (host != nullptr) {
    if (!host->is_string()) return invalid("host must be a string");
    if (trim_spaces(host->get_ref<const std::string&>()).empty()) return invalid("host is empty");
  }

  std::optional<double> timestamp;
  if (const json* value = present_field(document, "timestamp")) {
    if (value->is_number()) {
      timestamp = value->get<double>();
    } else if (value->is_string()) {
      timestamp = number_from_string(value->get_ref<const std::string&>());
    }
    if (!timestamp || !std::isfinite(*timestamp)) return invalid("timestamp must be a number");
    if (*timestamp <= 0) timestamp.reset();
  }

  int level = 1;
  if (const json* value = present_field(document, "level")) {
    const std::optional<int> parsed = level_from_json(*value);
    if (!parsed) return invalid("level must be an integer from 0 to 7");
    level = *parsed;
  }

  if (const json* value = present_field(document, "version")) {
    if (!value->is_string() || (*value != "1.0" && *value != "1.1")) {
      return invalid("version must be \"1.0\" or \"1.1\"");
    }
  }

  for (const auto& [key, value] : document.items()) {
    if (key.empty() || key[0] != '_') continue;
    const std::string_view name = std::string_view(key).substr(1);
    if (name == "id") return invalid("additional field \"_id\" is not allowed");
    if (!is_valid_field_name(name)) {
      return invalid("invalid additional field name " + quoted_name(key));
    }
  }

  // Valid: move the parts out of the document.
  message.short_message = std::move(document[text_name].get_ref<std::string&>());
  message.host = host != nullptr ? std::move(document["host"].get_ref<std::string&>()) : "";
  message.full_message.clear();
  if (const json* value = present_field(document, "full_message")) {
    message.full_message = value->is_string()
                               ? std::move(document["full_message"].get_ref<std::string&>())
                               : value->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  message.timestamp = timestamp;
  message.level = level;
  message.additional = json::object();
  for (auto& [key, value] : document.items()) {
    if (!key.empty() && key[0] == '_') {
      message.additional[key.substr(1)] = std::move(value);
    }
  }
  for (auto& [key, value] : document.items()) {
    if (key.empty() || key[0] == '_' || is_standard_field(key)) continue;
    if (!message.additional.contains(key)) message.additional[key] = std::move(value);
  }
  return std::nullopt;
}

std::variant<GelfMessage, InvalidGelfMessage> parse_gelf_message(std::string_view json_text) {
  GelfMessage message;
  if (std::optional<InvalidGelfMessage> failure = parse_gelf_message_into(json_text, message)) {
    return std::move(*failure);
  }
  return message;
}

Level event_level_from_syslog(int syslog_level) {
  const int clamped = std::clamp(syslog_level, 0, 7);
  return static_cast<Level>(7 - clamped);
}

std::string_view keboola_event_type(int syslog_level) {
  if (syslog_level <= 3) return "error";
  if (syslog_level <= 5) return "warn";
  return "info";
}

}  // namespace runner::logging::gelf

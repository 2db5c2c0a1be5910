// GelfMessage validation: see the header for the rules and why. A text is read into a flat list
// of its top-level fields (strings as views, other values as nlohmann values), then the rules run
// on that list and fill the message. Two readers make the list: simdjson's on-demand parser, in
// place (nested values built straight into a nlohmann DOM, the only DOM a message needs), and
// nlohmann's parser, used when simdjson refuses the text: it words the syntax error users see
// ("parse error at byte N") and reads the few texts simdjson does not (a byte-order mark, integers
// beyond 64 bits, duplicate keys, more than 64 fields). The rules exist once, so the two readers
// can only differ in how they read JSON; the differential tests and the fuzz target check that.
#include "logging/gelf/message.hpp"

#include "common/utf8.hpp"

#include "logging/simdjson_values.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>
#include <vector>

namespace runner::logging::gelf {

namespace {

using nlohmann::json;
namespace ondemand = simdjson::ondemand;

static_assert(kGelfJsonPadding >= simdjson::SIMDJSON_PADDING);

constexpr std::size_t kMaxFastFields = 64;  // more: nlohmann reads the text

InvalidGelfMessage invalid(std::string_view reason) {
  return InvalidGelfMessage{"Invalid message: " + std::string(reason)};
}

// A field name for a reason text: at most 64 bytes (not ending inside a UTF-8 character), quoted
// and escaped as JSON.
std::string quoted_name(std::string_view name) {
  constexpr std::size_t kMaxShown = 64;
  if (name.size() > kMaxShown) name = name.substr(0, utf8_cut_point(name, kMaxShown));
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

enum StandardField : int {
  kVersion,
  kHost,
  kShortMessage,
  kMessage,
  kFullMessage,
  kTimestamp,
  kLevel,
  kStandardFieldCount,
};

// The StandardField of a key, or -1.
int standard_field_index(std::string_view key) {
  if (key == "version") return kVersion;
  if (key == "host") return kHost;
  if (key == "short_message") return kShortMessage;
  if (key == "message") return kMessage;
  if (key == "full_message") return kFullMessage;
  if (key == "timestamp") return kTimestamp;
  if (key == "level") return kLevel;
  return -1;
}

// One top-level field as a reader found it. Views stay valid until the reader's next text.
// NOLINTNEXTLINE(bugprone-exception-escape): its implicit moves are nlohmann's, which are noexcept
struct Field {
  std::string_view key;
  bool is_string = false;
  std::string_view text;  // a string's decoded contents
  json value;             // anything but a string
  int standard = -1;      // the StandardField of the key
  // fill()'s work: the name the field is stored under, and whether it still has to be stored.
  std::string_view name;
  bool pending = false;
};

// The fields of one text; keys are unique.
struct Fields {
  std::vector<Field> list;
  std::size_t count = 0;
  std::array<int, kStandardFieldCount> standard{};  // index in list, or -1

  void clear() {
    if (list.size() > 4 * kMaxFastFields) list.resize(kMaxFastFields);  // after a hostile text
    count = 0;
    standard.fill(-1);
  }
  Field& add(std::string_view key) {
    if (count == list.size()) list.emplace_back();
    Field& field = list[count];
    field.key = key;
    field.standard = standard_field_index(key);
    if (field.standard >= 0) standard[field.standard] = static_cast<int>(count);
    ++count;
    return field;
  }
  bool has_key(std::string_view key) const {
    for (std::size_t i = 0; i < count; ++i) {
      if (list[i].key == key) return true;
    }
    return false;
  }
  // A standard field that is present and not null.
  const Field* present(int standard_field) const {
    const int at = standard[standard_field];
    if (at < 0) return nullptr;
    const Field& field = list[at];
    return !field.is_string && field.value.is_null() ? nullptr : &field;
  }
};

std::optional<int> level_from(const Field& field) {
  double number = 0;
  if (field.is_string) {
    const std::optional<double> parsed = number_from_string(field.text);
    if (!parsed) return std::nullopt;
    number = *parsed;
  } else if (field.value.is_number_unsigned()) {
    const auto level = field.value.get<std::uint64_t>();
    return level <= 7 ? std::optional<int>(static_cast<int>(level)) : std::nullopt;
  } else if (field.value.is_number_integer()) {
    const auto level = field.value.get<std::int64_t>();
    return level >= 0 && level <= 7 ? std::optional<int>(static_cast<int>(level)) : std::nullopt;
  } else if (field.value.is_number_float()) {
    number = field.value.get<double>();
  } else {
    return std::nullopt;
  }
  if (!(number >= 0 && number <= 7) || std::floor(number) != number) return std::nullopt;
  return static_cast<int>(number);
}

// The values the rules take from the standard fields.
struct Standard {
  const Field* text = nullptr;
  std::optional<double> timestamp;
  int level = 1;
};

// The rules of the header, in the order their reasons take precedence.
std::optional<InvalidGelfMessage> check(const Fields& fields, Standard& out) {
  out.text = fields.present(kShortMessage);
  const char* text_name = "short_message";
  if (out.text == nullptr) {
    out.text = fields.present(kMessage);
    text_name = "message";
  }
  if (out.text == nullptr) return invalid("missing short_message");
  if (!out.text->is_string) return invalid(std::string(text_name) + " must be a string");

  if (const Field* host = fields.present(kHost)) {
    if (!host->is_string) return invalid("host must be a string");
    if (trim_spaces(host->text).empty()) return invalid("host is empty");
  }

  out.timestamp.reset();
  if (const Field* value = fields.present(kTimestamp)) {
    if (value->is_string) {
      out.timestamp = number_from_string(value->text);
    } else if (value->value.is_number()) {
      out.timestamp = value->value.get<double>();
    }
    if (!out.timestamp || !std::isfinite(*out.timestamp)) {
      return invalid("timestamp must be a number");
    }
    if (*out.timestamp <= 0) out.timestamp.reset();
  }

  out.level = 1;
  if (const Field* value = fields.present(kLevel)) {
    const std::optional<int> parsed = level_from(*value);
    if (!parsed) return invalid("level must be an integer from 0 to 7");
    out.level = *parsed;
  }

  if (const Field* value = fields.present(kVersion)) {
    if (!value->is_string || (value->text != "1.0" && value->text != "1.1")) {
      return invalid("version must be \"1.0\" or \"1.1\"");
    }
  }

  // Of several bad names, the first in key order is named (whatever order they came in).
  const Field* bad = nullptr;
  for (std::size_t i = 0; i < fields.count; ++i) {
    const Field& field = fields.list[i];
    if (field.key.empty() || field.key[0] != '_') continue;
    const std::string_view name = field.key.substr(1);
    if ((name == "id" || !is_valid_field_name(name)) && (bad == nullptr || field.key < bad->key)) {
      bad = &field;
    }
  }
  if (bad != nullptr) {
    if (bad->key == "_id") return invalid("additional field \"_id\" is not allowed");
    return invalid("invalid additional field name " + quoted_name(bad->key));
  }
  return std::nullopt;
}

json value_of(const Field& field) {
  return field.is_string ? json(field.text) : field.value;
}

// Fills `message` from fields that passed check(). The previous message's map nodes are reused,
// a node of the same name first (a client sends the same fields every time), so a steady stream
// of messages allocates nothing here.
void fill(Fields& fields, const Standard& standard, GelfMessage& message) {
  message.short_message.assign(standard.text->text);
  const Field* host = fields.present(kHost);
  message.host.assign(host != nullptr ? host->text : std::string_view());
  message.full_message.clear();
  if (const Field* value = fields.present(kFullMessage)) {
    if (value->is_string) {
      message.full_message.assign(value->text);
    } else {
      message.full_message = value->value.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  message.timestamp = standard.timestamp;
  message.level = standard.level;

  // Additional fields without their underscore, then the other non-standard fields unless an
  // underscored field took the name.
  for (std::size_t i = 0; i < fields.count; ++i) {
    Field& field = fields.list[i];
    field.pending = false;
    std::string_view name = field.key;
    if (!name.empty() && name[0] == '_') {
      name.remove_prefix(1);
    } else {
      if (name.empty() || field.standard >= 0) continue;
      bool taken = false;
      for (std::size_t j = 0; j < fields.count && !taken; ++j) {
        const std::string_view other = fields.list[j].key;
        taken = other.size() == name.size() + 1 && other[0] == '_' && other.substr(1) == name;
      }
      if (taken) continue;
    }
    field.name = name;
    field.pending = true;
  }
  json::object_t previous;
  if (message.additional.is_object()) {
    previous.swap(message.additional.get_ref<json::object_t&>());
  } else {
    message.additional = json::object();
  }
  json::object_t& additional = message.additional.get_ref<json::object_t&>();
  const auto store = [&additional](Field& field, json::object_t::node_type node) {
    json& value = node.mapped();
    if (field.is_string && value.is_string()) {
      value.get_ref<std::string&>().assign(field.text);
    } else {
      value = value_of(field);
    }
    additional.insert(std::move(node));
    field.pending = false;
  };
  for (std::size_t i = 0; i < fields.count && !previous.empty(); ++i) {
    Field& field = fields.list[i];
    if (!field.pending) continue;
    const auto same_name = previous.find(field.name);
    if (same_name != previous.end()) store(field, previous.extract(same_name));
  }
  for (std::size_t i = 0; i < fields.count; ++i) {
    Field& field = fields.list[i];
    if (!field.pending) continue;
    if (previous.empty()) {
      additional.emplace(std::string(field.name), value_of(field));
      field.pending = false;
    } else {
      json::object_t::node_type node = previous.extract(previous.begin());
      node.key().assign(field.name);
      store(field, std::move(node));
    }
  }
}

// simdjson's reading of a text into `fields`; false when it refuses the text or declines it
// (duplicate keys, too many fields, too deep, numbers beyond 64 bits), and nlohmann decides.
bool read_with_simdjson(ondemand::parser& parser, simdjson::padded_string_view text,
                        Fields& fields) {
  fields.clear();
  ondemand::document document;
  if (parser.iterate(text).get(document)) return false;
  ondemand::object object;
  if (document.get_object().get(object)) return false;
  for (auto member : object) {
    std::string_view key;
    ondemand::value value;
    if (member.unescaped_key().get(key) || member.value().get(value)) return false;
    if (fields.count == kMaxFastFields || fields.has_key(key)) return false;
    Field& field = fields.add(key);
    ondemand::json_type type;
    if (value.type().get(type)) return false;
    field.is_string = type == ondemand::json_type::string;
    if (field.is_string) {
      if (value.get_string().get(field.text)) return false;
    } else if (!simdjson_values::read_value(value, field.value, kMaxGelfNestingDepth - 1)) {
      return false;
    }
  }
  return simdjson_values::at_document_end(document);
}

// nlohmann's reading: the reference. `document` keeps the values the fields view.
std::optional<InvalidGelfMessage> read_with_nlohmann(std::string_view text, json& document,
                                                     Fields& fields) {
  fields.clear();
  // The top-level object is level 1: a container that starts at depth 64 is level 65.
  bool too_deep = false;
  const auto limit_depth = [&too_deep](int depth, json::parse_event_t event, json&) {
    const bool opens =
        event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (opens && depth >= static_cast<int>(kMaxGelfNestingDepth)) too_deep = true;
    return !too_deep;
  };
  try {
    document = json::parse(text, limit_depth);
    if (too_deep) {
      return invalid("nested deeper than " + std::to_string(kMaxGelfNestingDepth) + " levels");
    }
  } catch (const json::parse_error& error) {
    return invalid("not valid JSON (parse error at byte " + std::to_string(error.byte) + ")");
  } catch (const json::out_of_range&) {
    return invalid("not valid JSON (a number is out of range)");  // e.g. 1e999
  } catch (const json::exception&) {
    return invalid("not valid JSON");
  }
  if (!document.is_object()) return invalid("not a JSON object");
  for (auto& [key, value] : document.get_ref<json::object_t&>()) {
    Field& field = fields.add(key);
    field.is_string = value.is_string();
    if (field.is_string) {
      field.text = value.get_ref<const std::string&>();
    } else {
      field.value = std::move(value);
    }
  }
  return std::nullopt;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): as Field's, the implicit members are nlohmann's
struct GelfMessageParser::Impl {
  ondemand::parser parser;
  simdjson_values::PaddedCopy padded;
  Fields fields;
  json document;  // nlohmann's reading
};

GelfMessageParser::GelfMessageParser() : impl_(std::make_unique<Impl>()) {}
GelfMessageParser::~GelfMessageParser() = default;

std::optional<InvalidGelfMessage> GelfMessageParser::parse(std::string_view json_text,
                                                           GelfMessage& message,
                                                           std::size_t readable_after,
                                                           GelfJsonReader reader) {
  Impl& impl = *impl_;
  last_read_by_simdjson_ =
      reader == GelfJsonReader::simdjson &&
      read_with_simdjson(impl.parser, impl.padded.view(json_text, readable_after), impl.fields);
  if (!last_read_by_simdjson_) {
    if (auto failure = read_with_nlohmann(json_text, impl.document, impl.fields)) return failure;
  }
  Standard standard;
  if (auto failure = check(impl.fields, standard)) return failure;
  fill(impl.fields, standard, message);
  return std::nullopt;
}

std::variant<GelfMessage, InvalidGelfMessage> parse_gelf_message(std::string_view json_text,
                                                                 GelfJsonReader reader) {
  GelfMessageParser parser;
  GelfMessage message;
  if (std::optional<InvalidGelfMessage> failure = parser.parse(json_text, message, 0, reader)) {
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

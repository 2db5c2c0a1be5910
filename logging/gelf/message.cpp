// GelfMessage validation: see the header for the rules and why. Two paths give the same result:
// a single-pass scanner (message_scan.hpp) that fills the message in place for the common, valid
// message, and nlohmann's parser with validation passes over its DOM, which handles everything the
// scanner declines and words the errors. The scanner exists because the nlohmann path costs ~3.7 us
// per 250-byte message, most of the GELF server's budget at 250,000 msg/s.
#include "logging/gelf/message.hpp"
#include "logging/gelf/message_scan.hpp"
#include "logging/json_chars.hpp"
#include "logging/utf8.hpp"

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

// --- The fast path (message_scan.hpp) ------------------------------------------------------------

namespace {

constexpr std::size_t kMaxScannedFields = 64;

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

// The StandardField for a key (the names is_standard_field knows), or -1.
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

// The four hex digits at text[at..at+4) as a number, or -1.
std::int32_t hex4(std::string_view text, std::size_t at) {
  if (at + 4 > text.size()) return -1;
  std::int32_t value = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int digit = json_hex_value(text[at + k]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

// Length of the well-formed UTF-8 sequence starting at text[at] (a byte >= 0x80), or 0. The
// ranges are Unicode's table 3-7, which nlohmann's lexer checks too (no overlongs, no surrogates,
// nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t k) -> unsigned {
    return at + k < text.size() ? static_cast<unsigned char>(text[at + k]) : 0;
  };
  const auto in = [](unsigned value, unsigned low, unsigned high) {
    return value >= low && value <= high;
  };
  const unsigned lead = byte(0);
  if (in(lead, 0xC2, 0xDF)) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
  if (lead == 0xE0) return in(byte(1), 0xA0, 0xBF) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  if (in(lead, 0xE1, 0xEC) || lead == 0xEE || lead == 0xEF) {
    return in(byte(1), 0x80, 0xBF) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (lead == 0xED) return in(byte(1), 0x80, 0x9F) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
  if (lead == 0xF0) {
    return in(byte(1), 0x90, 0xBF) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  if (in(lead, 0xF1, 0xF3)) {
    return in(byte(1), 0x80, 0xBF) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  if (lead == 0xF4) {
    return in(byte(1), 0x80, 0x8F) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// Appends the decoded form of a string's contents that the scanner has checked (every escape is
// complete and surrogates come in pairs).
void append_unescaped(std::string& out, std::string_view raw) {
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t backslash = raw.find('\\', i);
    if (backslash == std::string_view::npos) {
      out.append(raw.substr(i));
      return;
    }
    out.append(raw.substr(i, backslash - i));
    const char escaped = raw[backslash + 1];
    i = backslash + 2;
    switch (escaped) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto code_point = static_cast<std::uint32_t>(hex4(raw, i));
        i += 4;
        if (code_point >= 0xD800 && code_point <= 0xDBFF) {
          const auto low = static_cast<std::uint32_t>(hex4(raw, i + 2));
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        append_utf8(out, code_point);
        break;
      }
      default:
        out += escaped;  // '"', '\\', '/'
        break;
    }
  }
}

enum class ValueKind : std::uint8_t { string, number, boolean_true, boolean_false, null, nested };

// A number typed as nlohmann's lexer types it: unsigned for a non-negative integer that fits 64
// bits, signed for a negative one, double otherwise.
struct ScannedNumber {
  json::value_t type;
  std::uint64_t unsigned_value;
  std::int64_t signed_value;
  double float_value;

  json to_json() const {
    if (type == json::value_t::number_unsigned) return json(unsigned_value);
    if (type == json::value_t::number_integer) return json(signed_value);
    return json(float_value);
  }
};

struct ScannedField {
  std::string_view key;  // as written (keys with escapes are declined)
  std::string_view raw;  // a string's contents between its quotes, escapes still encoded
  ValueKind kind;
  bool escaped;  // the string holds escapes
  int standard;  // the StandardField of a key without underscore, or -1
  ScannedNumber number;
  std::size_t nested;  // index of a nested value in GelfScanner::nested_values
};

// Reads the top-level object of a GELF message into `fields`, checking JSON syntax as strictly as
// nlohmann does and the additional field names. scan() is false for anything it does not handle.
class GelfScanner {
 public:
  explicit GelfScanner(std::string_view text) : text_(text) {}

  bool scan();

  std::array<ScannedField, kMaxScannedFields> fields;  // the first field_count are set
  std::size_t field_count = 0;
  std::array<int, kStandardFieldCount> standard;  // index in fields, or -1
  std::vector<json> nested_values;                // arrays and objects, parsed by nlohmann

 private:
  bool next_is(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  void skip_space() {
    while (pos_ < text_.size() && is_json_space(text_[pos_])) ++pos_;
  }
  bool scan_value(ScannedField& field);
  bool scan_string(std::string_view& raw, bool& escaped);
  bool scan_escape();
  bool scan_literal(std::string_view word);
  bool scan_number(ScannedNumber& number);
  bool scan_nested(ScannedField& field);

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool GelfScanner::scan() {
  standard.fill(-1);
  skip_space();
  if (!next_is('{')) return false;  // also a BOM, which nlohmann skips
  ++pos_;
  skip_space();
  for (;;) {
    if (field_count == kMaxScannedFields || !next_is('"')) return false;
    ScannedField& field = fields[field_count];
    bool key_escaped = false;
    if (!scan_string(field.key, key_escaped) || key_escaped) return false;
    for (std::size_t i = 0; i < field_count; ++i) {
      if (fields[i].key == field.key) return false;  // nlohmann keeps the last one; rare
    }
    field.standard = -1;
    if (!field.key.empty() && field.key[0] == '_') {
      const std::string_view name = field.key.substr(1);
      if (name == "id" || !is_valid_field_name(name)) return false;
    } else {
      field.standard = standard_field_index(field.key);
      if (field.standard >= 0) standard[field.standard] = static_cast<int>(field_count);
    }
    skip_space();
    if (!next_is(':')) return false;
    ++pos_;
    skip_space();
    if (!scan_value(field)) return false;
    ++field_count;
    skip_space();
    if (next_is(',')) {
      ++pos_;
      skip_space();
      continue;
    }
    if (!next_is('}')) return false;
    ++pos_;
    skip_space();
    return pos_ == text_.size();
  }
}

bool GelfScanner::scan_value(ScannedField& field) {
  field.raw = {};
  field.escaped = false;
  field.nested = 0;
  if (pos_ >= text_.size()) return false;
  switch (text_[pos_]) {
    case '"':
      field.kind = ValueKind::string;
      return scan_string(field.raw, field.escaped);
    case 't':
      field.kind = ValueKind::boolean_true;
      return scan_literal("true");
    case 'f':
      field.kind = ValueKind::boolean_false;
      return scan_literal("false");
    case 'n':
      field.kind = ValueKind::null;
      return scan_literal("null");
    case '{':
    case '[':
      field.kind = ValueKind::nested;
      return scan_nested(field);
    default:
      field.kind = ValueKind::number;
      return scan_number(field.number);
  }
}

// pos_ at the opening quote; `raw` becomes the contents. Rejects what nlohmann rejects: control
// characters, unknown or short escapes, unpaired surrogates, malformed UTF-8.
bool GelfScanner::scan_string(std::string_view& raw, bool& escaped) {
  const std::size_t start = ++pos_;
  const std::size_t size = text_.size();
  escaped = false;
  while (pos_ < size) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++pos_;
    } else if (c == '"') {
      raw = text_.substr(start, pos_ - start);
      ++pos_;
      return true;
    } else if (c == '\\') {
      escaped = true;
      if (!scan_escape()) return false;
    } else if (c < 0x20) {
      return false;
    } else {
      const std::size_t length = utf8_sequence_length(text_, pos_);
      if (length == 0) return false;
      pos_ += length;
    }
  }
  return false;
}

// pos_ at a backslash inside a string.
bool GelfScanner::scan_escape() {
  if (pos_ + 1 >= text_.size()) return false;
  const char escaped = text_[pos_ + 1];
  if (escaped != 'u') {
    if (escaped != '"' && escaped != '\\' && escaped != '/' && escaped != 'b' && escaped != 'f' &&
        escaped != 'n' && escaped != 'r' && escaped != 't') {
      return false;
    }
    pos_ += 2;
    return true;
  }
  const std::int32_t code_point = hex4(text_, pos_ + 2);
  if (code_point < 0 || (code_point >= 0xDC00 && code_point <= 0xDFFF)) return false;
  pos_ += 6;
  if (code_point < 0xD800 || code_point > 0xDBFF) return true;
  // A high surrogate: a low one must follow at once.
  if (!next_is('\\') || pos_ + 1 >= text_.size() || text_[pos_ + 1] != 'u') return false;
  const std::int32_t low = hex4(text_, pos_ + 2);
  if (low < 0xDC00 || low > 0xDFFF) return false;
  pos_ += 6;
  return true;
}

bool GelfScanner::scan_literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  return true;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, typed as nlohmann types it. An integer that
// does not fit 64 bits is a double, as there; a double that is not finite (1e999) is declined, as
// nlohmann rejects it (and so is one std::from_chars calls out of range, such as 1e-400).
bool GelfScanner::scan_number(ScannedNumber& number) {
  const std::size_t start = pos_;
  const std::size_t size = text_.size();
  std::size_t i = pos_;
  bool integral = true;
  if (i < size && text_[i] == '-') ++i;
  if (i >= size || !is_json_digit(text_[i])) return false;
  if (text_[i] == '0') {
    ++i;
  } else {
    while (i < size && is_json_digit(text_[i])) ++i;
  }
  if (i < size && text_[i] == '.') {
    integral = false;
    ++i;
    if (i >= size || !is_json_digit(text_[i])) return false;
    while (i < size && is_json_digit(text_[i])) ++i;
  }
  if (i < size && (text_[i] == 'e' || text_[i] == 'E')) {
    integral = false;
    ++i;
    if (i < size && (text_[i] == '+' || text_[i] == '-')) ++i;
    if (i >= size || !is_json_digit(text_[i])) return false;
    while (i < size && is_json_digit(text_[i])) ++i;
  }
  pos_ = i;
  const char* first = text_.data() + start;
  const char* last = text_.data() + i;
  if (integral) {
    if (*first == '-') {
      const auto [end, error] = std::from_chars(first, last, number.signed_value);
      if (error == std::errc() && end == last) {
        number.type = json::value_t::number_integer;
        return true;
      }
    } else {
      const auto [end, error] = std::from_chars(first, last, number.unsigned_value);
      if (error == std::errc() && end == last) {
        number.type = json::value_t::number_unsigned;
        return true;
      }
    }
  }
  const auto [end, error] = std::from_chars(first, last, number.float_value);
  if (error != std::errc() || end != last || !std::isfinite(number.float_value)) return false;
  number.type = json::value_t::number_float;
  return true;
}

// An array or object: its extent by a bracket count that skips strings, then nlohmann parses it
// alone (the same value it builds inside the whole text). Too deep a value is declined.
bool GelfScanner::scan_nested(ScannedField& field) {
  const std::size_t start = pos_;
  const std::size_t size = text_.size();
  std::size_t depth = 0;  // below the top-level object, which is level 1 of the limit
  while (pos_ < size) {
    const char c = text_[pos_++];
    if (c == '"') {
      while (pos_ < size && text_[pos_] != '"') pos_ += text_[pos_] == '\\' ? 2 : 1;
      if (pos_ >= size) return false;
      ++pos_;
    } else if (c == '{' || c == '[') {
      if (++depth >= kMaxGelfNestingDepth) return false;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      field.raw = text_.substr(start, pos_ - start);
      try {
        nested_values.push_back(json::parse(field.raw));
      } catch (const json::exception&) {
        return false;
      }
      field.nested = nested_values.size() - 1;
      return true;
    }
  }
  return false;
}

// A scanned value as nlohmann would hold it; a nested value is moved out of the scanner.
json field_value(const ScannedField& field, GelfScanner& scanner) {
  switch (field.kind) {
    case ValueKind::string: {
      std::string text;
      append_unescaped(text, field.raw);
      return json(std::move(text));
    }
    case ValueKind::number:
      return field.number.to_json();
    case ValueKind::boolean_true:
      return json(true);
    case ValueKind::boolean_false:
      return json(false);
    case ValueKind::null:
      return json(nullptr);
    case ValueKind::nested:
      return std::move(scanner.nested_values[field.nested]);
  }
  return json();
}

void assign_unescaped(std::string& out, std::string_view raw) {
  out.clear();
  append_unescaped(out, raw);
}

}  // namespace

bool scan_gelf_message(std::string_view json_text, GelfMessage& message) {
  GelfScanner scanner(json_text);
  if (!scanner.scan()) return false;
  const auto present = [&scanner](int standard) -> const ScannedField* {
    const int at = scanner.standard[standard];
    if (at < 0 || scanner.fields[at].kind == ValueKind::null) return nullptr;
    return &scanner.fields[at];
  };

  // The checks of the nlohmann path, in its order; any failure declines (it words the error).
  const ScannedField* text = present(kShortMessage);
  if (text == nullptr) text = present(kMessage);
  if (text == nullptr || text->kind != ValueKind::string) return false;

  const ScannedField* host = present(kHost);
  if (host != nullptr &&
      (host->kind != ValueKind::string || host->escaped || trim_spaces(host->raw).empty())) {
    return false;
  }

  std::optional<double> timestamp;
  if (const ScannedField* value = present(kTimestamp)) {
    if (value->kind == ValueKind::number) {
      timestamp = value->number.to_json().get<double>();
    } else if (value->kind == ValueKind::string && !value->escaped) {
      timestamp = number_from_string(value->raw);
    }
    if (!timestamp || !std::isfinite(*timestamp)) return false;
    if (*timestamp <= 0) timestamp.reset();
  }

  int level = 1;
  if (const ScannedField* value = present(kLevel)) {
    std::optional<int> parsed;
    if (value->kind == ValueKind::number) {
      parsed = level_from_json(value->number.to_json());
    } else if (value->kind == ValueKind::string && !value->escaped) {
      parsed = level_from_json(json(std::string(value->raw)));
    }
    if (!parsed) return false;
    level = *parsed;
  }

  if (const ScannedField* value = present(kVersion)) {
    if (value->kind != ValueKind::string || (value->raw != "1.0" && value->raw != "1.1")) {
      return false;
    }
  }

  // Valid: fill the message.
  assign_unescaped(message.short_message, text->raw);
  if (host != nullptr) {
    message.host.assign(host->raw);
  } else {
    message.host.clear();
  }
  message.full_message.clear();
  if (const ScannedField* value = present(kFullMessage)) {
    if (value->kind == ValueKind::string) {
      append_unescaped(message.full_message, value->raw);
    } else {
      message.full_message =
          field_value(*value, scanner).dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  message.timestamp = timestamp;
  message.level = level;

  // Additional fields without their underscore, then the other non-standard fields unless an
  // underscored field took the name. The previous message's map nodes are reused, a node of the
  // same name first (a client sends the same fields every time), so a steady stream of messages
  // allocates nothing here.
  std::array<std::string_view, kMaxScannedFields> names;
  std::array<bool, kMaxScannedFields> placed{};
  for (std::size_t i = 0; i < scanner.field_count; ++i) {
    const ScannedField& field = scanner.fields[i];
    std::string_view name = field.key;
    placed[i] = true;  // not stored
    if (!name.empty() && name[0] == '_') {
      name.remove_prefix(1);
    } else {
      if (name.empty() || field.standard >= 0) continue;  // dropped, as by the nlohmann path
      bool taken = false;
      for (std::size_t j = 0; j < scanner.field_count && !taken; ++j) {
        const std::string_view other = scanner.fields[j].key;
        taken = other.size() == name.size() + 1 && other[0] == '_' && other.substr(1) == name;
      }
      if (taken) continue;
    }
    names[i] = name;
    placed[i] = false;
  }
  json::object_t previous;
  if (message.additional.is_object()) {
    previous.swap(message.additional.get_ref<json::object_t&>());
  } else {
    message.additional = json::object();
  }
  json::object_t& additional = message.additional.get_ref<json::object_t&>();
  const auto store = [&](std::size_t i, json::object_t::node_type node) {
    const ScannedField& field = scanner.fields[i];
    json& value = node.mapped();
    if (field.kind == ValueKind::string && value.is_string()) {
      assign_unescaped(value.get_ref<std::string&>(), field.raw);
    } else {
      value = field_value(field, scanner);
    }
    additional.insert(std::move(node));
    placed[i] = true;
  };
  for (std::size_t i = 0; i < scanner.field_count && !previous.empty(); ++i) {
    if (placed[i]) continue;
    const auto same_name = previous.find(names[i]);
    if (same_name != previous.end()) store(i, previous.extract(same_name));
  }
  for (std::size_t i = 0; i < scanner.field_count; ++i) {
    if (placed[i]) continue;
    if (previous.empty()) {
      additional.emplace(std::string(names[i]), field_value(scanner.fields[i], scanner));
      placed[i] = true;
    } else {
      json::object_t::node_type node = previous.extract(previous.begin());
      node.key().assign(names[i]);
      store(i, std::move(node));
    }
  }
  return true;
}

std::optional<InvalidGelfMessage> parse_gelf_message_into(std::string_view json_text,
                                                          GelfMessage& message, bool fast_path) {
  if (fast_path && scan_gelf_message(json_text, message)) return std::nullopt;
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

std::variant<GelfMessage, InvalidGelfMessage> parse_gelf_message(std::string_view json_text,
                                                                 bool fast_path) {
  GelfMessage message;
  if (std::optional<InvalidGelfMessage> failure =
          parse_gelf_message_into(json_text, message, fast_path)) {
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

// KestraLineParser: see the header. The ordinary-line path is one or two byte comparisons. A
// protocol payload goes through fast_report() (simdjson's on-demand parser, no DOM but the
// outputs) and, when that declines, through report() on a nlohmann DOM, which is the reference:
// plain code that finds and words every problem. fast_report() declines anything report() would
// warn about, so it never has to word one. The payload is copied into one padded buffer for
// simdjson (the line lies in the splitter's buffers, which keep no room for its read-ahead); the
// copy of an ~80-byte line costs a few nanoseconds of the ~0.2 us the parse takes.
//
// Over 600 lines on purpose: the fast path and the reference path must agree on every rule (which
// keys are protocol, what a metric is, how deep a payload may nest), and keeping both next to the
// helpers they share is what keeps them in step; the differential tests and the fuzz target
// compare them.
#include "logging/kestra_protocol.hpp"

#include "common/utf8.hpp"
#include "logging/simdjson_values.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace runner::logging {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxListedProblems = 5;
constexpr std::size_t kMaxShownValue = 40;
constexpr std::size_t kMaxParseReason = 200;
constexpr int kMaxNesting = 128;

// nlohmann's parse, also telling whether the payload nests deeper than kMaxNesting levels: such
// a payload is refused, since outputs are later dumped recursively (stack depth).
json parse_nesting_limited(std::string_view text, bool& too_deep, bool allow_exceptions) {
  too_deep = false;
  return json::parse(
      text,
      [&too_deep](int depth, json::parse_event_t, json&) {
        if (depth > kMaxNesting) too_deep = true;
        return !too_deep;
      },
      allow_exceptions);
}

bool starts_with_marker(std::string_view text) {
  return text.starts_with("::{");
}
bool ends_with_marker(std::string_view text) {
  return text.ends_with("}::");
}

// `text` cut to at most `max_bytes` without splitting a character, with "..." when cut.
std::string shortened(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out(text.substr(0, utf8_cut_point(text, max_bytes)));
  out += "...";
  return out;
}

// A JSON value as shown in a problem: scalars as (short) JSON, containers by their kind.
std::string shown(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    default:
      return shortened(value.dump(-1, ' ', false, json::error_handler_t::replace), kMaxShownValue);
  }
}

std::string got(const json& value) {
  return "got " + shown(value);
}

// "got ..." for a member that may be absent.
std::string got(const json& object, const json::const_iterator& member) {
  return member == object.end() ? "missing" : got(*member);
}

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_protocol_key(std::string_view key) {
  return key == "logs" || key == "outputs" || key == "metrics" || key == "assets";
}

// Cheap filter for bare `{...}` lines: false when the first key is plainly not a protocol key
// (most JSON log lines), true when it is one or cannot be told without decoding escapes.
bool first_key_may_be_protocol(std::string_view text) {
  std::size_t pos = 1;  // past '{'
  while (pos < text.size() && is_json_space(text[pos])) ++pos;
  if (pos >= text.size() || text[pos] != '"') return false;
  const std::size_t start = ++pos;
  while (pos < text.size() && text[pos] != '"') {
    if (text[pos] == '\\') return true;
    ++pos;
  }
  if (pos >= text.size()) return false;
  return is_protocol_key(text.substr(start, pos - start));
}

// 1-based line and column of byte `index` in `text`.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t index) {
  if (index > text.size()) index = text.size();
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, index - line_start + 1};
}

// The reason part of a nlohmann error ("syntax error while parsing value - ...").
std::string_view parse_error_reason(std::string_view what) {
  if (what.starts_with("[json.exception.")) {
    const std::size_t end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  const std::size_t column = what.find("column ");
  if (column == std::string_view::npos) return what;
  const std::size_t colon = what.find(": ", column);
  if (colon == std::string_view::npos) return what;
  return what.substr(colon + 2);
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && is_json_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_json_space(text.back())) text.remove_suffix(1);
  return text;
}

char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Reads a non-negative decimal ("12", "1.5", "1,5") at text[pos]; advances pos.
std::optional<double> read_duration_number(std::string_view text, std::size_t& pos,
                                           bool& fraction) {
  std::string digits;
  fraction = false;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') digits += text[pos++];
  if (digits.empty()) return std::nullopt;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    digits += '.';
    fraction = true;
    const std::size_t before = digits.size();
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') digits += text[pos++];
    if (digits.size() == before) return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (lower_ascii(text[i]) != lower[i]) return false;
  }
  return true;
}

// "counter", "gauge" or "timer" for a type name in any case, else empty.
std::string_view metric_type(std::string_view name) {
  for (const std::string_view type : {"counter", "gauge", "timer"}) {
    if (equals_ignoring_case(name, type)) return type;
  }
  return {};
}

}  // namespace

std::optional<Level> parse_kestra_level(std::string_view name) {
  std::array<char, 10> lower{};
  if (name.empty() || name.size() > lower.size()) return std::nullopt;
  for (std::size_t i = 0; i < name.size(); ++i) lower[i] = lower_ascii(name[i]);
  const std::string_view key(lower.data(), name.size());
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::debug},         {"debug", Level::debug},    {"info", Level::info},
      {"notice", Level::notice},       {"warn", Level::warning},   {"warning", Level::warning},
      {"error", Level::error},         {"err", Level::error},      {"critical", Level::critical},
      {"crit", Level::critical},       {"fatal", Level::critical}, {"alert", Level::alert},
      {"emergency", Level::emergency}, {"emerg", Level::emergency}};
  for (const auto& [level_name, level] : kNames) {
    if (key == level_name) return level;
  }
  return std::nullopt;
}

std::optional<double> parse_numeric_string(std::string_view text) {
  text = trim_spaces(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// PnW, PnD, then T with nH, nM, nS, each at most once and in that order; a fraction only on the
// last component.
std::optional<double> parse_iso8601_duration(std::string_view text) {
  text = trim_spaces(text);
  if (text.size() < 3 || lower_ascii(text[0]) != 'p') return std::nullopt;
  std::size_t pos = 1;
  bool in_time = false;
  bool time_component = false;
  bool any_component = false;
  bool after_fraction = false;
  int last_rank = -1;
  double seconds = 0;
  while (pos < text.size()) {
    if (lower_ascii(text[pos]) == 't') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++pos;
      continue;
    }
    if (after_fraction) return std::nullopt;
    bool fraction = false;
    const auto number = read_duration_number(text, pos, fraction);
    if (!number || pos >= text.size()) return std::nullopt;
    const char unit = lower_ascii(text[pos++]);
    int rank = -1;
    double unit_seconds = 0;
    if (!in_time && unit == 'w') {
      rank = 0;
      unit_seconds = 7 * 86400.0;
    } else if (!in_time && unit == 'd') {
      rank = 1;
      unit_seconds = 86400.0;
    } else if (in_time && unit == 'h') {
      rank = 2;
      unit_seconds = 3600.0;
    } else if (in_time && unit == 'm') {
      rank = 3;
      unit_seconds = 60.0;
    } else if (in_time && unit == 's') {
      rank = 4;
      unit_seconds = 1.0;
    } else {
      return std::nullopt;
    }
    if (rank <= last_rank) return std::nullopt;
    last_rank = rank;
    seconds += *number * unit_seconds;
    any_component = true;
    time_component = time_component || in_time;
    after_fraction = fraction;
  }
  if (!any_component || (in_time && !time_component) || !std::isfinite(seconds)) {
    return std::nullopt;
  }
  return seconds;
}

struct KestraLineParser::FastReader {  // NOLINT(bugprone-exception-escape): as KestraMetric
  struct Log {
    Level level;
    std::string_view message;
  };
  struct Tag {
    std::string_view key;
    std::string_view value;
  };
  struct Metric {
    std::string_view name;
    std::string_view type;  // normalised: "counter", "gauge" or "timer"
    double value;
    std::size_t first_tag;
    std::size_t tag_count;
    std::string_view description;
  };

  bool read(std::string_view json_text);
  bool read_logs(simdjson::ondemand::value value);
  bool read_metrics(simdjson::ondemand::value value);
  bool read_metric(simdjson::ondemand::object entry);
  bool read_tags(simdjson::ondemand::value value);

  simdjson::ondemand::parser parser;
  simdjson_values::PaddedCopy padded;
  // What read() found; views into the parser's buffers, valid until the next read().
  std::vector<Log> logs;
  std::vector<Tag> tags;
  std::vector<Metric> metrics;
  bool has_outputs = false;
  json outputs;
  json unused;  // members of entries that are read only to check them
};

KestraLineParser::KestraLineParser(KestraCallbacks callbacks, bool fast_path)
    : callbacks_(std::move(callbacks)),
      fast_path_(fast_path),
      fast_reader_(std::make_unique<FastReader>()) {}
KestraLineParser::~KestraLineParser() = default;

void KestraLineParser::line(std::string_view text) {
  if (block_open_) {
    continue_block(text);
    return;
  }
  // The hot path: an ordinary line is decided by its first byte.
  if (text.size() < 2 || (text[0] != ':' && text[0] != '{') || !enabled_) {
    if (callbacks_.on_text) callbacks_.on_text(text);
    return;
  }
  candidate_line(text);
}

void KestraLineParser::candidate_line(std::string_view text) {
  if (text[0] == ':') {
    if (!starts_with_marker(text)) {
      if (callbacks_.on_text) callbacks_.on_text(text);
    } else if (text.size() >= 6 && ends_with_marker(text)) {
      parse_marked(text.substr(2, text.size() - 4), text, false);
    } else {
      open_block(text);
    }
    return;
  }
  // Bare `{...}`: protocol only when every top-level key is logs, outputs or metrics.
  if (text.back() == '}' && first_key_may_be_protocol(text)) {
    std::string_view read = text;
    if (payload_filter_ && payload_filter_(text, filtered_)) read = filtered_;
    if (fast_report(read)) return;
    bool too_deep = false;
    const json payload = parse_nesting_limited(read, too_deep, false);
    if (!too_deep && payload.is_object() && !payload.empty()) {
      bool only_protocol_keys = true;
      for (const auto& item : payload.items()) {
        if (!is_protocol_key(item.key())) {
          only_protocol_keys = false;
          break;
        }
      }
      // A bare line with any problem is someone's own JSON: text, without a warning.
      if (only_protocol_keys && reports_cleanly(payload)) {
        report(payload, text, false);
        return;
      }
    }
  }
  if (callbacks_.on_text) callbacks_.on_text(text);
}

// Whether report() would find no problem in `payload` (run with no callbacks: nothing is
// reported). Only bare lines that the fast path declined come here.
bool KestraLineParser::reports_cleanly(const json& payload) {
  KestraCallbacks saved = std::exchange(callbacks_, KestraCallbacks{});
  report(payload, {}, false);
  callbacks_ = std::move(saved);
  return problems_.empty();
}

void KestraLineParser::open_block(std::string_view text) {
  if (text.size() > kMaxBlockBytes) {
    if (callbacks_.on_text) callbacks_.on_text(text);
    return;
  }
  block_open_ = true;
  block_text_.assign(text);
  block_breaks_.clear();
}

void KestraLineParser::continue_block(std::string_view text) {
  const bool too_big = block_text_.size() + 1 + text.size() > kMaxBlockBytes ||
                       block_breaks_.size() + 2 > kMaxBlockLines;
  // A line starting "::{" never continues valid JSON: the block was not one, start afresh.
  if (too_big || starts_with_marker(text)) {
    give_back_block(too_big ? "longer than 1 MiB or 10,000 lines before it closed"
                            : "a line starting \"::{\" came before it closed");
    line(text);
    return;
  }
  block_breaks_.push_back(block_text_.size());
  block_text_ += '\n';
  block_text_.append(text);
  if (ends_with_marker(text)) close_block();
}

void KestraLineParser::close_block() {
  const std::string_view text(block_text_);
  not_protocol_.clear();
  parse_marked(text.substr(2, text.size() - 4), text, true);
  if (!not_protocol_.empty()) {
    // Not JSON at all: the lines were ordinary output after all.
    give_back_block(not_protocol_);
    return;
  }
  block_open_ = false;
  block_text_.clear();
  block_breaks_.clear();
  if (block_text_.capacity() > 64 * 1024) std::string().swap(block_text_);
}

void KestraLineParser::flush_block() {
  if (!block_open_) return;
  give_back_block("not closed by a line ending with \"}::\"");
}

// One warning, then the block's lines as the ordinary lines they were, in order.
void KestraLineParser::give_back_block(std::string_view why) {
  const std::string_view text(block_text_);
  const std::size_t first_end = block_breaks_.empty() ? text.size() : block_breaks_.front();
  warn(fmt::format("{}; its lines are logged as ordinary output", why), text.substr(0, first_end),
       true);
  block_open_ = false;
  if (callbacks_.on_text) {
    std::size_t start = 0;
    for (const std::size_t line_break : block_breaks_) {
      callbacks_.on_text(text.substr(start, line_break - start));
      start = line_break + 1;
    }
    callbacks_.on_text(text.substr(start));
  }
  block_text_.clear();
  block_breaks_.clear();
  if (block_text_.capacity() > 64 * 1024) std::string().swap(block_text_);
}

void KestraLineParser::finish() {
  flush_block();
}

void KestraLineParser::parse_marked(std::string_view json_text, std::string_view original,
                                    bool is_block) {
  if (payload_filter_ && payload_filter_(json_text, filtered_)) json_text = filtered_;
  if (fast_report(json_text)) return;
  json payload;
  std::string error;                      // nlohmann's message when the text is not JSON
  std::optional<std::size_t> error_byte;  // 1-based index of the byte where parsing stopped
  bool too_deep = false;
  try {
    payload = parse_nesting_limited(json_text, too_deep, true);
  } catch (const json::parse_error& parse_error) {
    error = parse_error.what();
    error_byte = parse_error.byte;
  } catch (const json::exception& other_error) {  // e.g. a number too large for a double
    error = other_error.what();
  }
  if (error.empty() && too_deep) {
    warn(fmt::format("nested deeper than {} levels", kMaxNesting), original, is_block);
    return;
  }
  if (error.empty()) {
    report(payload, original, is_block);
    return;
  }
  if (is_block) {
    // Maybe one long line the splitter cut into pieces: try it without the joins.
    std::string joined;
    joined.reserve(json_text.size());
    for (const char c : json_text) {
      if (c != '\n') joined += c;
    }
    const json rejoined = parse_nesting_limited(joined, too_deep, false);
    if (!too_deep && rejoined.is_object()) {
      report(rejoined, original, true);
      return;
    }
  }
  const std::string reason = shortened(parse_error_reason(error), kMaxParseReason);
  if (!error_byte) {
    if (is_block)
      not_protocol_ = fmt::format("invalid JSON: {}", reason);
    else
      warn(fmt::format("invalid JSON: {}", reason), original, false);
    return;
  }
  const std::size_t index = 2 + (*error_byte > 0 ? *error_byte - 1 : 0);
  const auto [line_number, column] = line_and_column(original, index);
  if (is_block) {
    not_protocol_ =
        fmt::format("invalid JSON at line {}, column {}: {}", line_number, column, reason);
  } else {
    warn(fmt::format("invalid JSON at column {}: {}", column, reason), original, false);
  }
}

// "logs": each entry's message at its level (INFO when absent or unknown, with a problem).
void KestraLineParser::report_logs(const json& payload) {
  const auto logs = payload.find("logs");
  if (logs != payload.end() && !logs->is_null()) {
    if (!logs->is_array()) {
      problems_.push_back("logs: expected an array, " + got(*logs));
    } else {
      for (std::size_t i = 0; i < logs->size(); ++i) {
        const json& entry = (*logs)[i];
        if (!entry.is_object()) {
          problems_.push_back(fmt::format("logs[{}]: expected an object, {}", i, got(entry)));
          continue;
        }
        const auto message = entry.find("message");
        if (message == entry.end()) {
          problems_.push_back(fmt::format("logs[{}].message: missing", i));
          continue;
        }
        if (!message->is_string()) {
          problems_.push_back(
              fmt::format("logs[{}].message: expected a string, {}", i, got(*message)));
          continue;
        }
        Level level = Level::info;
        const auto level_value = entry.find("level");
        if (level_value != entry.end() && !level_value->is_null()) {
          if (!level_value->is_string()) {
            problems_.push_back(fmt::format("logs[{}].level: expected a string, {}; used INFO", i,
                                            got(*level_value)));
          } else if (const auto parsed =
                         parse_kestra_level(level_value->get_ref<const std::string&>())) {
            level = *parsed;
          } else {
            problems_.push_back(
                fmt::format("logs[{}].level: unknown level {}; used INFO", i, shown(*level_value)));
          }
        }
        if (callbacks_.on_log) callbacks_.on_log(level, message->get_ref<const std::string&>());
      }
    }
  }
}

// "outputs": an object, given to the callback whole (masking happens there, value by value).
void KestraLineParser::report_outputs(const json& payload) {
  const auto outputs = payload.find("outputs");
  if (outputs != payload.end() && !outputs->is_null()) {
    if (!outputs->is_object()) {
      problems_.push_back("outputs: expected an object, " + got(*outputs));
    } else if (callbacks_.on_outputs) {
      callbacks_.on_outputs(*outputs);
    }
  }
}

// "assets" (Kestra.assets() of @kestra-io/libs 2.x): an asset object or an array of them, each
// given to the callback; anything else is a problem.
void KestraLineParser::report_assets(const json& payload) {
  const auto assets = payload.find("assets");
  if (assets == payload.end() || assets->is_null()) return;
  if (assets->is_object()) {
    if (callbacks_.on_asset) callbacks_.on_asset(*assets);
    return;
  }
  if (!assets->is_array()) {
    problems_.push_back("assets: expected an array of objects, " + got(*assets));
    return;
  }
  for (std::size_t i = 0; i < assets->size(); ++i) {
    const json& entry = (*assets)[i];
    if (!entry.is_object())
      problems_.push_back(fmt::format("assets[{}]: expected an object, {}", i, got(entry)));
    else if (callbacks_.on_asset)
      callbacks_.on_asset(entry);
  }
}

// "metrics": each valid entry to the callback; a bad one is a problem and is skipped.
void KestraLineParser::report_metrics(const json& payload) {
  const auto metrics = payload.find("metrics");
  if (metrics != payload.end() && !metrics->is_null()) {
    if (!metrics->is_array()) {
      problems_.push_back("metrics: expected an array, " + got(*metrics));
    } else {
      for (std::size_t i = 0; i < metrics->size(); ++i) {
        const json& entry = (*metrics)[i];
        if (!entry.is_object()) {
          problems_.push_back(fmt::format("metrics[{}]: expected an object, {}", i, got(entry)));
          continue;
        }
        const std::size_t problems_before = problems_.size();
        read_metric_entry(entry, i);
        if (problems_.size() == problems_before && callbacks_.on_metric) {
          callbacks_.on_metric(metric_);
        }
      }
    }
  }
}

// One metric entry into metric_ (a problem per bad member; the metric is reported only when it
// has none).
void KestraLineParser::read_metric_entry(const json& entry, std::size_t i) {
  const auto name = entry.find("name");
  if (name == entry.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    problems_.push_back(
        fmt::format("metrics[{}].name: expected a non-empty string, {}", i, got(entry, name)));
  } else {
    metric_.name = name->get_ref<const std::string&>();
  }

  const auto type = entry.find("type");
  std::string_view type_name;
  if (type != entry.end() && type->is_string()) {
    type_name = metric_type(type->get_ref<const std::string&>());
  }
  if (type_name.empty()) {
    problems_.push_back(
        fmt::format("metrics[{}].type: expected counter, gauge or timer, {}", i, got(entry, type)));
  } else {
    metric_.type = type_name;
  }

  const auto value = entry.find("value");
  std::optional<double> number;
  if (value != entry.end()) {
    if (value->is_number()) {
      number = value->get<double>();
      if (!std::isfinite(*number)) number.reset();
    } else if (value->is_string()) {
      const std::string& value_text = value->get_ref<const std::string&>();
      number = parse_numeric_string(value_text);
      if (!number && type_name == "timer") number = parse_iso8601_duration(value_text);
    }
  }
  if (number) {
    metric_.value = *number;
  } else {
    const std::string_view expected =
        type_name == "timer" ? "expected seconds (a number, numeric string or ISO-8601 duration)"
                             : "expected a number or numeric string";
    problems_.push_back(fmt::format("metrics[{}].value: {}, {}", i, expected, got(entry, value)));
  }

  metric_.tags = json::object();
  const auto tags = entry.find("tags");
  if (tags != entry.end() && !tags->is_null()) {
    if (!tags->is_object()) {
      problems_.push_back(fmt::format("metrics[{}].tags: expected an object, {}", i, got(*tags)));
    } else {
      for (const auto& tag : tags->items()) {
        const json& tag_value = tag.value();
        if (tag_value.is_string()) {
          metric_.tags[tag.key()] = tag_value;
        } else if (tag_value.is_number() || tag_value.is_boolean()) {
          metric_.tags[tag.key()] = tag_value.dump();
        } else {
          problems_.push_back(fmt::format("metrics[{}].tags.{}: expected a string, {}", i,
                                          tag.key(), got(tag_value)));
        }
      }
    }
  }

  metric_.description.clear();
  const auto description = entry.find("description");
  if (description != entry.end() && !description->is_null()) {
    if (!description->is_string()) {
      problems_.push_back(
          fmt::format("metrics[{}].description: expected a string, {}", i, got(*description)));
    } else {
      metric_.description = description->get_ref<const std::string&>();
    }
  }
}

void KestraLineParser::report(const json& payload, std::string_view original, bool is_block) {
  problems_.clear();
  report_logs(payload);
  report_outputs(payload);
  report_metrics(payload);
  report_assets(payload);
  for (const auto& item : payload.items()) {
    if (!is_protocol_key(item.key())) {
      problems_.push_back(
          fmt::format("unknown key \"{}\" (expected logs, outputs, metrics or assets)",
                      shortened(item.key(), kMaxShownValue)));
    }
  }

  if (problems_.empty()) return;
  std::string what;
  for (std::size_t i = 0; i < problems_.size() && i < kMaxListedProblems; ++i) {
    if (i > 0) what += "; ";
    what += problems_[i];
  }
  if (problems_.size() > kMaxListedProblems) {
    what += fmt::format("; and {} more", problems_.size() - kMaxListedProblems);
  }
  warn(what, original, is_block);
}

void KestraLineParser::warn(std::string_view what, std::string_view original, bool is_block) {
  if (!callbacks_.on_warning) return;
  const std::size_t lines = block_breaks_.size() + 1;
  std::string message = is_block ? fmt::format("Invalid Kestra protocol block ({} line{}): {}",
                                               lines, lines == 1 ? "" : "s", what)
                                 : fmt::format("Invalid Kestra protocol line: {}", what);
  callbacks_.on_warning(std::move(message), original);
}

namespace {

namespace ondemand = simdjson::ondemand;

// Containers a member of a log entry or metric may nest (the entry is at level 3 of kMaxNesting).
constexpr int kEntryMemberDepth = kMaxNesting - 3;

bool is_null(ondemand::value& value) {
  bool null = false;
  return !value.is_null().get(null) && null;
}

}  // namespace

bool KestraLineParser::FastReader::read_logs(ondemand::value value) {
  if (is_null(value)) return true;
  ondemand::array array;
  if (value.get_array().get(array)) return false;
  for (auto element : array) {
    ondemand::object entry;
    if (element.get_object().get(entry)) return false;
    bool has_level = false;
    bool has_message = false;
    Log log{Level::info, {}};
    for (auto member : entry) {
      std::string_view key;
      ondemand::value field;
      if (member.unescaped_key().get(key) || member.value().get(field)) return false;
      if (key == "level") {
        if (has_level) return false;
        has_level = true;
        if (is_null(field)) continue;
        std::string_view name;
        if (field.get_string().get(name)) return false;
        const auto level = parse_kestra_level(name);
        if (!level) return false;
        log.level = *level;
      } else if (key == "message") {
        if (has_message || field.get_string().get(log.message)) return false;
        has_message = true;
      } else if (!simdjson_values::read_value(field, unused, kEntryMemberDepth)) {
        return false;
      }
    }
    if (!has_message) return false;
    logs.push_back(log);
  }
  return true;
}

bool KestraLineParser::FastReader::read_tags(ondemand::value value) {
  if (is_null(value)) return true;
  ondemand::object object;
  if (value.get_object().get(object)) return false;
  for (auto member : object) {
    Tag tag;
    ondemand::value field;
    if (member.unescaped_key().get(tag.key) || member.value().get(field)) return false;
    ondemand::json_type type;
    if (field.type().get(type)) return false;
    if (type == ondemand::json_type::string) {
      if (field.get_string().get(tag.value)) return false;
    } else if (type == ondemand::json_type::boolean) {
      bool flag = false;
      if (field.get_bool().get(flag)) return false;
      tag.value = flag ? "true" : "false";
    } else {
      return false;  // numbers: the full path stringifies them exactly as nlohmann does
    }
    tags.push_back(tag);
  }
  return true;
}

bool KestraLineParser::FastReader::read_metric(ondemand::object entry) {
  Metric metric{{}, {}, 0, tags.size(), 0, {}};
  bool has_name = false, has_type = false, has_value = false, has_tags = false;
  bool has_description = false;
  std::string_view type_name;
  std::string_view value_text;  // a string value, read once the type is known
  bool value_is_string = false;
  for (auto member : entry) {
    std::string_view key;
    ondemand::value field;
    if (member.unescaped_key().get(key) || member.value().get(field)) return false;
    if (key == "name") {
      if (has_name || field.get_string().get(metric.name)) return false;
      has_name = true;
    } else if (key == "type") {
      if (has_type || field.get_string().get(type_name)) return false;
      has_type = true;
    } else if (key == "value") {
      if (has_value) return false;
      has_value = true;
      ondemand::json_type type;
      if (field.type().get(type)) return false;
      if (type == ondemand::json_type::string) {
        if (field.get_string().get(value_text)) return false;
        value_is_string = true;
      } else {
        json number;  // typed as nlohmann types it, so the double is the one it would give
        if (!simdjson_values::read_number(field, number)) return false;
        metric.value = number.get<double>();
        if (!std::isfinite(metric.value)) return false;
      }
    } else if (key == "tags") {
      if (has_tags || !read_tags(field)) return false;
      has_tags = true;
    } else if (key == "description") {
      if (has_description) return false;
      has_description = true;
      if (!is_null(field) && field.get_string().get(metric.description)) return false;
    } else if (!simdjson_values::read_value(field, unused, kEntryMemberDepth)) {
      return false;
    }
  }
  metric.type = metric_type(type_name);
  if (metric.name.empty() || metric.type.empty() || !has_value) return false;
  if (value_is_string) {
    auto number = parse_numeric_string(value_text);
    if (!number && metric.type == "timer") number = parse_iso8601_duration(value_text);
    if (!number) return false;
    metric.value = *number;
  }
  metric.tag_count = tags.size() - metric.first_tag;
  metrics.push_back(metric);
  return true;
}

bool KestraLineParser::FastReader::read_metrics(ondemand::value value) {
  if (is_null(value)) return true;
  ondemand::array array;
  if (value.get_array().get(array)) return false;
  for (auto element : array) {
    ondemand::object entry;
    if (element.get_object().get(entry) || !read_metric(entry)) return false;
  }
  return true;
}

bool KestraLineParser::FastReader::read(std::string_view json_text) {
  logs.clear();
  tags.clear();
  metrics.clear();
  has_outputs = false;
  outputs = nullptr;
  ondemand::document document;
  if (parser.iterate(padded.view(json_text, 0)).get(document)) return false;
  ondemand::object object;
  if (document.get_object().get(object)) return false;
  bool has_logs = false, has_metrics = false, outputs_seen = false;
  for (auto member : object) {
    std::string_view key;
    ondemand::value value;
    if (member.unescaped_key().get(key) || member.value().get(value)) return false;
    if (key == "logs") {
      if (has_logs || !read_logs(value)) return false;
      has_logs = true;
    } else if (key == "metrics") {
      if (has_metrics || !read_metrics(value)) return false;
      has_metrics = true;
    } else if (key == "outputs") {
      if (outputs_seen) return false;
      outputs_seen = true;
      if (is_null(value)) continue;
      ondemand::json_type type;
      if (value.type().get(type) || type != ondemand::json_type::object) return false;
      if (!simdjson_values::read_value(value, outputs, kMaxNesting - 1)) return false;
      has_outputs = true;
    } else {
      return false;
    }
  }
  return simdjson_values::at_document_end(document);
}

bool KestraLineParser::fast_report(std::string_view json_text) {
  if (!fast_path_) return false;
  FastReader& reader = *fast_reader_;
  if (!reader.read(json_text)) return false;
  ++fast_path_payloads_;
  if (callbacks_.on_log) {
    for (const FastReader::Log& entry : reader.logs) callbacks_.on_log(entry.level, entry.message);
  }
  if (reader.has_outputs && callbacks_.on_outputs) callbacks_.on_outputs(reader.outputs);
  if (callbacks_.on_metric) {
    for (const FastReader::Metric& metric : reader.metrics) {
      metric_.name.assign(metric.name);
      metric_.type.assign(metric.type);
      metric_.value = metric.value;
      metric_.tags = json::object();
      for (std::size_t i = metric.first_tag; i < metric.first_tag + metric.tag_count; ++i) {
        metric_.tags[std::string(reader.tags[i].key)] = reader.tags[i].value;
      }
      metric_.description.assign(metric.description);
      callbacks_.on_metric(metric_);
    }
  }
  return true;
}

}  // namespace runner::logging

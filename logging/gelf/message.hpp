// GelfMessage: one validated GELF message, and the validation rules, which follow Graylog's
// GelfCodec where it is lenient towards real clients and the GELF 1.1 spec where Graylog says
// nothing:
//   - the text must be a JSON object, nested at most 64 levels deep (so code that later walks
//     the fields recursively, the secret scrubber and the event sinks, cannot overflow the stack);
//   - a null standard field is treated as absent;
//   - `short_message` is required, or `message` in its place; either must be a string (Graylog
//     rejects numbers too); an empty string is accepted, as Graylog does;
//   - `host`, when present, must be a non-blank string (Graylog);
//   - `full_message`, when present, is kept as text: a string as it is, other values as JSON;
//   - `timestamp` is a number in any JSON form (1605000000, 1.605e9) or a string holding one
//     (Graylog parses strings too); anything else is invalid. A value <= 0 means "not given",
//     as Graylog then uses the receipt time;
//   - `level` is an integer 0-7, also as a numeric string ("3") or an integral float (3.0);
//     absent means 1 (alert), the GELF default;
//   - `version`, when present, is "1.0" or "1.1";
//   - additional fields `_name` need a name matching ^[\w.\-]+$ after the underscore, and `_id`
//     is reserved. Their values are kept as sent: strings, numbers, nulls, booleans, arrays and
//     objects (real clients send all of them).
// Additional fields are stored WITHOUT the leading underscore (`_user` becomes `user`), as
// Graylog shows them. Other non-standard fields (the deprecated `facility`, `file`, `line`, or a
// client's own keys) are kept under their own names unless an underscored field already took the
// name; `message` is dropped when it only duplicates the text.
#pragma once

#include "logging/event.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace runner::logging::gelf {

struct GelfMessage {
  std::string short_message;
  std::string full_message;         // empty when not sent
  std::string host;                 // empty when not sent
  std::optional<double> timestamp;  // seconds since the epoch, when the client sent one
  int level = 1;                    // syslog severity 0 (emergency) - 7 (debug)
  nlohmann::json additional = nlohmann::json::object();  // names without the leading underscore
};

// Why a message was refused, as the event text: "Invalid message: <reason>".
struct InvalidGelfMessage {
  std::string reason;
};

inline constexpr std::size_t kMaxGelfNestingDepth = 64;

// simdjson reads up to this many bytes past the end of a JSON text (never their values, never
// writing them); buffers that hold GELF texts keep this much room after them so that the text is
// parsed where it lies instead of copied first.
inline constexpr std::size_t kGelfJsonPadding = 64;

// Which JSON reader decides: simdjson's on-demand parser (nlohmann when simdjson refuses the text,
// to word the error or to read what simdjson does not), or nlohmann alone (the reference the
// differential tests and the fuzz target compare simdjson's reading with).
enum class GelfJsonReader { simdjson, nlohmann };

// Parses and validates GELF JSON texts (already decompressed), keeping simdjson's buffers
// between messages. One per thread.
class GelfMessageParser {
 public:
  GelfMessageParser();
  ~GelfMessageParser();
  GelfMessageParser(const GelfMessageParser&) = delete;
  GelfMessageParser& operator=(const GelfMessageParser&) = delete;

  // Fills `message` (its strings and map nodes are reused) and returns nullopt, or returns the
  // reason and leaves `message` as it was. `readable_after`: bytes after the text that may be
  // read; with fewer than kGelfJsonPadding the text is copied into a padded buffer first.
  std::optional<InvalidGelfMessage> parse(std::string_view json_text, GelfMessage& message,
                                          std::size_t readable_after = 0,
                                          GelfJsonReader reader = GelfJsonReader::simdjson);
  // Whether the last parse() was decided by simdjson (false: by nlohmann).
  bool last_read_by_simdjson() const { return last_read_by_simdjson_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool last_read_by_simdjson_ = false;
};

// One message with a parser of its own (tests, tools; the server keeps a GelfMessageParser).
std::variant<GelfMessage, InvalidGelfMessage> parse_gelf_message(
    std::string_view json_text, GelfJsonReader reader = GelfJsonReader::simdjson);

// Syslog severity (clamped to 0-7) to the runner's event level: 0 emergency ... 7 debug.
Level event_level_from_syslog(int syslog_level);
// Keboola's event type: "error" for error (3) and worse, "warn" for warning (4) and notice (5),
// "info" otherwise.
std::string_view keboola_event_type(int syslog_level);

}  // namespace runner::logging::gelf

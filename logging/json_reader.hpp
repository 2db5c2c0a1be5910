// read_json: the one way runner turns JSON from outside (component files, specs read back from
// the queue, shipper configs, store rows) into a nlohmann document.
//
// nlohmann's own parse is iterative, but the document it builds is not safe to use: copying,
// comparing and dumping a value recurse once per level, so a 100,000-level array overflows the
// stack later, far from the parser; a duplicate key silently keeps the last value; a number too
// big for a double is an exception echoing all of its digits. read_json drives nlohmann's SAX
// parser (json::sax_parse, iterative) with a builder that enforces, while it builds:
//   - a nesting limit (JsonLimits::max_depth, default 256 levels: real configurations use ten
//     or so), so every recursive walk over a document read here is bounded by that many frames;
//   - unique keys in every object (a reviewer must see the value that is used);
//   - numbers that fit a double and are at most max_number_chars long;
//   - a size limit on the whole text.
// Each refusal names the JSON path and quotes at most a short excerpt of the offending text.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace runner::logging {

struct JsonLimits {
  std::size_t max_depth = 256;               // arrays and objects, the outermost is level 1
  std::size_t max_bytes = 64 * 1024 * 1024;  // the whole text
  std::size_t max_number_chars = 100;        // a double has 17 significant digits
  bool reject_duplicate_keys = true;
};

// A refused document: where (a JSON path such as "$.limits.timeout", "$" for syntax errors,
// which say the line and column) and why, in words a person can act on.
// Of kind invalid_config: the input is a file or a document a user wrote.
class JsonInputError : public Error {
 public:
  JsonInputError(std::string path, std::string reason);
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

// Parses `text` within `limits`. Throws JsonInputError; what() is "<path>: <reason>".
nlohmann::json read_json(std::string_view text, const JsonLimits& limits = {});
// The same without exceptions: nullopt for anything read_json refuses (the reason, if wanted, in
// *error). For runner's own records read back from a store, where a damaged row is skipped.
std::optional<nlohmann::json> try_read_json(std::string_view text, const JsonLimits& limits = {},
                                            std::string* error = nullptr);

// Drop-in for json::parse(text, nullptr, false): a discarded value for anything refused.
nlohmann::json read_json_or_discarded(std::string_view text, const JsonLimits& limits = {});

// True when `value` nests arrays and objects deeper than `max_depth` levels. Iterative, for
// documents built in memory by callers (an embedding program) before a recursive walk.
bool json_deeper_than(const nlohmann::json& value, std::size_t max_depth);

// `text` shortened for a message: at most `max_bytes` (never splitting a UTF-8 character) and
// "..." when cut.
std::string json_excerpt(std::string_view text, std::size_t max_bytes = 40);
// A JSON value as a problem message quotes it ("expected ..., got <this>"): scalars as JSON cut
// to 60 bytes, `null`, `true`, `false`, and containers by their kind ("an object", "an array").
std::string describe_json(const nlohmann::json& value);
// "$.a.b" / "$.a[\"odd key\"]": a child's path as runner's messages write it. Keys longer than
// 40 bytes are shortened, so a path stays readable whatever the document holds.
std::string json_child_path(const std::string& parent, std::string_view key);

}  // namespace runner::logging

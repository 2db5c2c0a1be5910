// KestraJsonScanner: a small strict JSON reader for the fast path of the Kestra protocol parser.
//
// nlohmann's DOM parser costs about a microsecond for an 83-byte protocol line (it copies every
// byte into a token buffer and allocates a node per value), which is most of a job's parsing time
// when one line in ten is protocol. This reader walks the text in place: strings come back as
// views of the text (or, when they hold escapes, of a caller-owned decode slot), numbers through
// std::from_chars, values the caller does not need are only validated, and a value it needs whole
// (outputs) is built straight into a nlohmann DOM. It accepts exactly
// RFC 8259 JSON (the caller checks UTF-8 validity first); anything it cannot read returns false,
// and the caller then falls back to nlohmann, which also produces the exact error message.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace runner::logging {

class KestraJsonScanner {
 public:
  static constexpr int kMaxDepth = 64;

  // `decode_slots` hold the decoded form of escaped strings; their number bounds how many escaped
  // strings one text may contain (read_string fails past that). Views into them stay valid until
  // the slots are reused by another scanner.
  KestraJsonScanner(std::string_view text, std::vector<std::string>& decode_slots)
      : text_(text), decode_slots_(decode_slots) {}

  // Skips whitespace and returns the next byte, or '\0' at the end.
  char peek();
  // Skips whitespace and consumes `c` if it is next.
  bool consume(char c);
  bool at_end() { return peek() == '\0' && pos_ >= text_.size(); }
  std::size_t position() const { return pos_; }

  // A string value (the next token must be one).
  bool read_string(std::string_view& out);
  // A number value, as double (ints included).
  bool read_number(double& out);
  // true, false or null.
  bool read_literal(std::string_view word);
  // Any value, validated and skipped.
  bool skip_value(int depth = 0);
  // Any value, as the nlohmann DOM nlohmann's own parser would build (same number types:
  // unsigned for non-negative integers, signed for negative ones, double otherwise).
  bool read_value(nlohmann::json& out, int depth = 0);

 private:
  bool skip_string();
  bool number_span(std::string_view& out);

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<std::string>& decode_slots_;
  std::size_t slots_used_ = 0;
};

}  // namespace runner::logging

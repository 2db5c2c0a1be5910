// KestraLineParser: recognises Kestra's script logging protocol in a component's output lines and
// turns it into log entries, outputs and metrics; every other line passes through unchanged.
//
// It sits right after the LineSplitter (lines arrive without terminator, valid UTF-8, at most
// 64 KiB each) and reports through callbacks, so the caller decides what becomes an event.
// Almost every line is ordinary text, so the parser first looks at one byte: a line that does not
// start with ':' or '{' goes straight to on_text, without allocation. A bare `{...}` line is
// first checked by its first key, so JSON logs such as `{"level":"info",...}` are rejected after
// a few bytes. A protocol payload is first read by simdjson's on-demand parser (no DOM but the
// outputs object, strings as views); only when that meets something it does not handle (a bad
// field, invalid JSON, duplicate keys, a numeric tag value, ...) is the payload parsed again with
// nlohmann, which decides and words the warning. Both paths give the same callbacks for every
// payload the fast one accepts (the differential tests check it).
//
// Recognised forms (REFERENCE.md section 2):
// - `::{...}::`: the whole line, no leading space (Kestra's `^::(\{.*\})::$`). The regex is
//   greedy, so `::{"a":1}::  ::{"b":2}::` is one protocol line whose JSON is invalid: a warning.
// - Multi-line: a line starting `::{` that does not end `}::` opens a block; lines are gathered
//   until one ends with `}::`, and the text joined with '\n' is parsed. If that is not valid JSON
//   but the text joined without separators is, the latter is used: a single line longer than the
//   splitter's 64 KiB arrives as several pieces and is put back together that way. A block holds
//   at most 1 MiB (joined text) and 10,000 lines; a block whose text is not JSON at all, a line
//   that would pass either bound, a line starting `::{` (it can never continue valid JSON, so it
//   starts afresh), finish() and flush_block() give the gathered lines back as the ordinary
//   lines they were, in order, after ONE warning saying why (the warning carries the block's
//   first line only: the lines themselves follow), and the line that arrived is then handled on
//   its own. A block that is JSON but breaks a payload rule is protocol and warns as a line does.
// - Bare `{...}` on one line whose top-level keys are only among logs, outputs, metrics and
//   assets (at least one). Any other JSON, or invalid JSON, in a bare line is ordinary text, no
//   warning.
//
// Payload rules and decisions:
// - logs: array of {level, message}. Levels are case-insensitive: TRACE and DEBUG -> debug,
//   INFO -> info, WARN/WARNING -> warning, ERROR/ERR -> error, FATAL/CRITICAL/CRIT -> critical,
//   plus notice, alert, emergency/emerg. A missing or null level is info; an unknown or
//   non-string level is info and reported. An entry without a string message is dropped and
//   reported. Other fields of an entry are ignored.
// - outputs: an object, handed on whole. null means absent for logs, outputs, metrics, assets.
// - assets (Kestra.assets() of @kestra-io/libs 2.x, Kestra's asset lineage): an object or an
//   array of objects, each handed on as it is (Kestra's server reads id, type, namespace,
//   displayName, description, metadata; runner keeps whatever the object holds). Payloads with
//   assets take the reference path (rare: one line per task).
// - metrics: array of {name, type, value, tags, description}. name: non-empty string; type:
//   counter, gauge or timer (case-insensitive, reported in lowercase); value: finite number or
//   numeric string, for a timer also an ISO-8601 duration (seconds); tags: object whose string,
//   number and boolean values become strings (missing/null: {}); description: string. A metric
//   with any bad field is dropped and reported.
// - Unknown top-level keys are reported (Kestra ignores them; we keep them visible).
// - A line that is partly bad: the good parts are emitted (logs, then outputs, then metrics) and
//   then ONE on_warning lists every problem with its place, e.g.
//   `Invalid Kestra protocol line: metrics[0].type: expected counter, gauge or timer, got
//   "histogram"`, carrying the line's full text. Invalid JSON gives one warning with the column.
// - A payload nested deeper than 128 levels is refused with a warning (outputs are dumped
//   recursively downstream); a bare line that deep is ordinary text.
// - `::{}::` (valid, empty) is consumed without any callback, as in Kestra.
// - A bare line that qualifies by its keys is a protocol line only when it breaks no payload
//   rule; otherwise (`{"metrics":{"cpu":0.5}}`, a component's own JSON) it is ordinary text,
//   without a warning: warnings are for `::{...}::` lines and blocks only.
//
// Secrets (set_payload_filter): a protocol payload is read from the line's raw text, so that a
// secret in it does not break its JSON; the filter gives, for a payload that may hold a secret,
// the payload to read instead, its decoded values masked (secrets::Masker::mask_payload), so
// that outputs, metrics, log messages and the values quoted in warnings are all masked. The
// original text handed to on_warning and every on_text line are raw: the caller masks them.
#pragma once

#include "logging/event.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runner::logging {

struct KestraMetric {  // NOLINT(bugprone-exception-escape): implicit members, nlohmann json
  std::string name;
  std::string type;     // counter, gauge or timer
  double value = 0;     // a timer's value is seconds
  nlohmann::json tags;  // object of string values, possibly empty
  std::string description;
};

// What the parser found. Views passed to a callback are valid only during the call. Unset
// members are skipped.
struct KestraCallbacks {
  std::function<void(std::string_view line)> on_text;
  std::function<void(Level level, std::string_view message)> on_log;
  std::function<void(const nlohmann::json& outputs)> on_outputs;  // an object
  std::function<void(const KestraMetric& metric)> on_metric;
  std::function<void(const nlohmann::json& asset)> on_asset;  // an object
  std::function<void(std::string message, std::string_view original_text)> on_warning;
};

class KestraLineParser {
 public:
  static constexpr std::size_t kMaxBlockBytes = 1024 * 1024;
  static constexpr std::size_t kMaxBlockLines = 10000;

  // `fast_path` false: every payload goes through nlohmann (tests compare the two paths).
  explicit KestraLineParser(KestraCallbacks callbacks, bool fast_path = true);
  ~KestraLineParser();
  KestraLineParser(const KestraLineParser&) = delete;
  KestraLineParser& operator=(const KestraLineParser&) = delete;

  // One complete line, terminator removed.
  void line(std::string_view text);
  // Off (the component's logging.kestra_protocol: false): every line is ordinary text.
  void set_enabled(bool enabled) { enabled_ = enabled; }
  bool enabled() const { return enabled_; }
  // End of stream: an unclosed block is given back as ordinary lines. The parser can be reused.
  void finish();
  // True while lines of an unclosed multi-line block are held back (for an idle-timeout flush).
  bool holding_block() const { return block_open_; }
  // Gives the held lines back as ordinary lines now (the block is abandoned).
  void flush_block();
  // `filter(payload, replacement)` returns true to have the payload read from `replacement`.
  using PayloadFilter = std::function<bool(std::string_view payload, std::string& replacement)>;
  void set_payload_filter(PayloadFilter filter) { payload_filter_ = std::move(filter); }
  // Payloads the fast path read itself (the others went to nlohmann); tests check it is used.
  std::uint64_t fast_path_payloads() const { return fast_path_payloads_; }

 private:
  void candidate_line(std::string_view text);
  void continue_block(std::string_view text);
  void close_block();
  void give_back_block(std::string_view why);
  void open_block(std::string_view text);
  bool reports_cleanly(const nlohmann::json& payload);
  // Parses `json_text` (the payload between the "::" markers) and reports it.
  void parse_marked(std::string_view json_text, std::string_view original, bool is_block);
  void report(const nlohmann::json& payload, std::string_view original, bool is_block);
  void report_logs(const nlohmann::json& payload);
  void report_outputs(const nlohmann::json& payload);
  void report_metrics(const nlohmann::json& payload);
  void report_assets(const nlohmann::json& payload);
  void read_metric_entry(const nlohmann::json& entry, std::size_t i);
  void warn(std::string_view what, std::string_view original, bool is_block);
  // The fast path: reads a fully valid payload with simdjson and reports it; false (and nothing
  // reported) when the payload needs the full path.
  bool fast_report(std::string_view json_text);

  KestraCallbacks callbacks_;
  PayloadFilter payload_filter_;
  std::string filtered_;  // the filter's replacement payload
  bool fast_path_ = true;
  bool enabled_ = true;
  bool block_open_ = false;
  std::string block_text_;                 // gathered lines joined with '\n'
  std::vector<std::size_t> block_breaks_;  // offset of each '\n' added between lines
  std::vector<std::string> problems_;      // of the current payload
  std::string not_protocol_;               // why a closed block is not JSON: given back
  KestraMetric metric_;                    // reused for each metric
  // The fast path's parser and what it found, reused line after line (simdjson stays out of
  // this header).
  struct FastReader;
  std::unique_ptr<FastReader> fast_reader_;
  std::uint64_t fast_path_payloads_ = 0;
};

// Kestra / syslog level name, case-insensitive; nullopt if unknown.
std::optional<Level> parse_kestra_level(std::string_view name);
// ISO-8601 duration ("PT1.5S", "PT2M", "PT1H30M", "P1DT2H", "P1W") in seconds. Days are 24 h;
// years, months and signs are rejected (as java.time.Duration does for years and months).
std::optional<double> parse_iso8601_duration(std::string_view text);
// A finite decimal number in a string, surrounding ASCII spaces allowed ("15", " 2.5", "1e3").
std::optional<double> parse_numeric_string(std::string_view text);

}  // namespace runner::logging

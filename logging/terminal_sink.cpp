// TerminalSink: see the header.
#include "logging/terminal_sink.hpp"

#include "logging/terminal_text.hpp"

#include <fmt/format.h>
#include <array>
#include <cstdlib>
#include <ctime>

namespace runner::logging {
namespace {

std::string_view level_color(Level level) {
  switch (level) {
    case Level::debug:
      return "\x1b[90m";
    case Level::info:
      return "\x1b[32m";
    case Level::notice:
      return "\x1b[36m";
    case Level::warning:
      return "\x1b[33m";
    case Level::error:
      return "\x1b[31m";
    default:
      return "\x1b[1;31m";
  }
}

// Full words, padded to the longest (EMERGENCY) so messages start in one column.
std::string_view level_label(Level level) {
  static constexpr std::array<std::string_view, 8> labels = {"DEBUG    ", "INFO     ", "NOTICE   ",
                                                             "WARNING  ", "ERROR    ", "CRITICAL ",
                                                             "ALERT    ", "EMERGENCY"};
  return labels[static_cast<std::size_t>(level)];
}

}  // namespace

bool want_color(const OutputFile& out, bool disabled_by_flag) {
  if (disabled_by_flag) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return out.is_terminal();
}

void TerminalSink::write(const Event& event) {
  const bool asked_for = event.level == Level::debug && min_level_ <= Level::info &&
                         !debug_source_.empty() && event.source == debug_source_;
  if (event.level < min_level_ && !asked_for) return;
  erase_partial_row();
  format_line(event);
  line_ += '\n';
  out_.write(line_);
}

// line_ = the event as people read it: time, level, source, message and fields, no newline.
void TerminalSink::format_line(const Event& event) {
  const std::int64_t us = event.time.time_since_epoch().count();
  const std::int64_t second = us / 1000000;
  if (second != cached_second_) {
    cached_second_ = second;
    std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    localtime_r(&t, &tm);
    cached_clock_ = fmt::format("{:02}:{:02}:{:02}.", tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  line_.clear();
  if (color_) line_ += "\x1b[2m";
  line_ += cached_clock_;
  const auto millis = static_cast<unsigned>((us / 1000) % 1000);
  line_ += static_cast<char>('0' + millis / 100);
  line_ += static_cast<char>('0' + (millis / 10) % 10);
  line_ += static_cast<char>('0' + millis % 10);
  line_ += ' ';
  if (color_) {
    line_ += "\x1b[0m";
    line_ += level_color(event.level);
  }
  line_ += level_label(event.level);
  if (color_) line_ += "\x1b[0m";
  line_ += ' ';
  if (event.source != "stdout") {
    if (color_) line_ += "\x1b[2m";
    line_ += '[';
    line_ += event.source;
    line_ += "] ";
    if (color_) line_ += "\x1b[0m";
  }
  // Continuation lines of a multi-line message are indented under the first; component text
  // never reaches the terminal raw (terminal_text.hpp).
  append_terminal_text(line_, event.message, "\n                       ");
  if (event.fields != nullptr && event.fields->is_object() && !event.fields->empty()) {
    if (color_) line_ += "\x1b[2m";
    for (const auto& [key, value] : event.fields->items()) {
      // Keboola's event type repeats the level; "internal" is what camouflage keeps from people.
      if (key == "type" || key == "internal") continue;
      line_ += ' ';
      append_terminal_text(line_, key);
      line_ += '=';
      append_terminal_text(
          line_, value.is_string()
                     ? value.get_ref<const std::string&>()
                     : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (color_) line_ += "\x1b[0m";
  }
}

void TerminalSink::finish(const JobSummary& summary) {
  // The message and results quote component text (stderr, output names).
  JobSummary s = summary;
  s.message.clear();
  append_terminal_text(s.message, summary.message, "\n  ");
  s.results_summary.clear();
  append_terminal_text(s.results_summary, summary.results_summary, "\n  ");
  std::string exit_part =
      s.container_exit_code ? fmt::format(", container exit code {}", *s.container_exit_code) : "";
  std::string text;
  if (s.status == JobStatus::success) {
    text = fmt::format("{}Job {} succeeded in {:.2f} s{}{}\n", color_ ? "\x1b[1;32m" : "", s.job_id,
                       s.duration_seconds, exit_part, color_ ? "\x1b[0m" : "");
  } else if (s.status == JobStatus::terminated) {
    text = fmt::format("{}Job {} terminated after {:.2f} s: {}{}\n", color_ ? "\x1b[1;33m" : "",
                       s.job_id, s.duration_seconds, s.message, color_ ? "\x1b[0m" : "");
  } else {
    text = fmt::format("{}Job {} failed ({} error) after {:.2f} s{}: {}{}\n",
                       color_ ? "\x1b[1;31m" : "", s.job_id, error_type_name(s.error_type),
                       s.duration_seconds, exit_part, s.message, color_ ? "\x1b[0m" : "");
  }
  if (!s.results_summary.empty())
    text += fmt::format("{}  {}{}\n", color_ ? "\x1b[2m" : "", s.results_summary,
                        color_ ? "\x1b[0m" : "");
  erase_partial_row();
  partial_row_.clear();  // the job is over: nothing is drawn again
  out_.write(text);
  out_.flush();
}

bool want_partial_lines(const OutputFile& out) {
  const char* term = std::getenv("TERM");
  return out.is_terminal() && (term == nullptr || std::string_view(term) != "dumb");
}

void TerminalSink::show_partial(const PartialLine& line) {
  if (!partial_lines_ || line.level < min_level_) return;
  if (line.text.empty()) {
    erase_partial_row();
    partial_row_.clear();
    return;
  }
  // The prefix the line will have as an event; the view adds the text, cut to the width.
  Event prefix;
  prefix.time = line.time;
  prefix.job_id = line.job_id;
  prefix.level = line.level;
  prefix.source = line.source;
  format_line(prefix);
  // "HH:MM:SS.mmm LEVEL     " and "[source] ": the prefix's columns without its colour codes.
  const std::size_t width = 23 + (line.source == "stdout" ? 0 : line.source.size() + 3);
  // Component text never reaches the terminal raw (terminal_text.hpp), partial or not.
  partial_row_.set(line_, width, terminal_text(line.text));
}

void TerminalSink::erase_partial_row() {
  if (!partial_row_.drawn()) return;
  line_.clear();
  partial_row_.erase(line_);
  out_.write(line_);
}

// After each batch: the partial row, drawn again if finished lines were written over it.
void TerminalSink::flush() {
  if (partial_lines_) {
    line_.clear();
    const std::size_t columns = out_.terminal_columns();
    partial_row_.draw(line_, columns == 0 ? 80 : columns);
    out_.write(line_);
  }
  out_.flush();
}

}  // namespace runner::logging

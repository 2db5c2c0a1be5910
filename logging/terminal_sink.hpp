// TerminalSink: what a person running `runner run` watches: time, level (in colour), message,
// and a summary line with status and duration at the end.
//
// Colour only when asked for (the caller decides from isatty, NO_COLOR and --no-color). Local
// time with milliseconds reads best on a laptop; the JSON Lines sink keeps full UTC microseconds.
// A line still being written (a prompt) is drawn on the last row and redrawn whole when it
// completes (PartialLineView), only when asked for: the caller decides from want_partial_lines.
#pragma once

#include "logging/event_sink.hpp"
#include "logging/output_file.hpp"
#include "logging/partial_line_view.hpp"

#include <string>

namespace runner::logging {

class TerminalSink final : public EventSink {
 public:
  TerminalSink(OutputFile out, bool color, Level min_level = Level::debug)
      : out_(std::move(out)), color_(color), min_level_(min_level) {}
  void write(const Event& event) override;
  void finish(const JobSummary& summary) override;
  void flush() override;
  // Draws partial lines (off by default: only a terminal can redraw a row).
  void set_partial_lines(bool shown) { partial_lines_ = shown; }
  void show_partial(const PartialLine& line) override;
  // Shows debug events from `source` even when the level filter is info: the component's
  // logging.verbosity asked for its debug messages (GELF), a choice the terminal's default does
  // not override. Quiet mode (warning and above) still hides them.
  void show_debug_from(std::string source) { debug_source_ = std::move(source); }

 private:
  void format_line(const Event& event);
  void erase_partial_row();

  OutputFile out_;
  bool color_;
  Level min_level_;
  std::string debug_source_;
  std::string line_;
  std::int64_t cached_second_ = -1;
  std::string cached_clock_;  // "HH:MM:SS."
  bool partial_lines_ = false;
  PartialLineView partial_row_;
};

// Whether colour should be used: a terminal, NO_COLOR unset or empty, and not disabled.
bool want_color(const OutputFile& out, bool disabled_by_flag);
// Whether partial lines should be drawn: a terminal whose TERM is not "dumb".
bool want_partial_lines(const OutputFile& out);

}  // namespace runner::logging

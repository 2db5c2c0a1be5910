// PartialLineView: the terminal's last row, where a line still being written (a prompt such as
// `Password: `, a progress line) is drawn after the finished lines and redrawn as it changes.
//
// TerminalSink owns one. It hands the view the row to show (prefix and text), has it erase the
// row before writing finished lines, and draw it again after them while the line is still
// pending; when the line completes the row is erased and the line is written whole, as the one
// event it is. Only for a terminal that can redraw a row: a file or a pipe, and `less` or a CI
// log reading one, would keep every drawn state, so they get no partial rows, only the line once
// (at its newline, or as an event after the splitter's quiet period).
//
// The row is erased with "\r\x1b[K" (back to column 0, erase to the end of the line), which only
// works within one row, so the row is cut to the terminal's width, keeping the end of the text
// (where a prompt or a progress line's latest state is) after a "…". Widths are counted per code
// point, East Asian wide characters and emoji as two columns and a tab as eight, so a cut row
// may be a little shorter than the width but never wraps.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace runner::logging {

class PartialLineView {
 public:
  // The row to show: `prefix` (time and level, possibly with colour codes) `prefix_width`
  // columns wide, then `text` (valid UTF-8, no newline). Empty text: nothing to show.
  void set(std::string_view prefix, std::size_t prefix_width, std::string_view text);
  void clear() { set({}, 0, {}); }
  bool drawn() const { return drawn_; }
  // Appends what removes the drawn row (nothing when none is drawn).
  void erase(std::string& out);
  // Appends the row, cut to `columns`, if there is one and it is not on screen as it is now.
  void draw(std::string& out, std::size_t columns);

 private:
  std::string prefix_;
  std::size_t prefix_width_ = 0;
  std::string text_;
  bool drawn_ = false;
  bool changed_ = false;  // set() since the last draw
};

// Columns `text` takes on a terminal, as PartialLineView counts them.
std::size_t display_width(std::string_view text);

}  // namespace runner::logging

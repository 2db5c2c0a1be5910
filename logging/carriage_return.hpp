// redrawn_line(): what a line redrawn with `\r` shows when it is done, as a terminal draws it.
//
// Progress bars print `\rprogress  25% [##      ]`, `\rprogress  50% [####    ]`, ... and one
// newline at the end: one line holding every state. A terminal moves the cursor to column 0 at
// each `\r` and overwrites; what is left is the line's final state. That is what an event keeps
// (one event per line, not one per redraw) and what the terminal's live view draws after
// runner's prefix (so the prefix is never overwritten). Characters overwrite characters (UTF-8
// code points, not bytes); `ESC [ K`, `ESC [ 0 K` and `ESC [ 2 K`, which progress libraries send
// to clear the rest of the row, erase from the cursor to the end. A `\r` at the very end moves
// the cursor only. Text without `\r` is returned as it is, without copying.
#pragma once

#include <string>
#include <string_view>

namespace runner::logging {

// `line`'s final state; a view of `line` when it holds no '\r', else of `scratch`.
std::string_view redrawn_line(std::string_view line, std::string& scratch);

}  // namespace runner::logging

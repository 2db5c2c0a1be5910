// redrawn_line(): see the header. The row is kept as views of the line's characters (cells),
// overwritten from column 0 at each '\r'; the input is one line (at most the splitter's 64 KiB),
// so the cells are bounded by it.
#include "logging/carriage_return.hpp"

#include "common/utf8.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace runner::logging {
namespace {

// Length of an erase-to-end-of-row sequence (ESC [ K, ESC [ 0 K, ESC [ 2 K) at text[i], or 0.
std::size_t erase_sequence(std::string_view text, std::size_t i) {
  if (text.compare(i, 3, "\x1b[K") == 0) return 3;
  if (text.compare(i, 4, "\x1b[0K") == 0 || text.compare(i, 4, "\x1b[2K") == 0) return 4;
  return 0;
}

}  // namespace

std::string_view redrawn_line(std::string_view line, std::string& scratch) {
  if (line.empty() || std::memchr(line.data(), '\r', line.size()) == nullptr) return line;
  std::vector<std::string_view> cells;
  std::size_t cursor = 0;
  for (std::size_t i = 0; i < line.size();) {
    if (line[i] == '\r') {
      cursor = 0;
      ++i;
      continue;
    }
    if (line[i] == '\x1b') {
      if (const std::size_t n = erase_sequence(line, i)) {
        if (cells.size() > cursor) cells.resize(cursor);
        i += n;
        continue;
      }
    }
    const std::size_t n = std::max<std::size_t>(1, utf8_sequence_length(line, i));
    const std::string_view cell = line.substr(i, n);
    if (cursor < cells.size())
      cells[cursor] = cell;
    else
      cells.push_back(cell);
    ++cursor;
    i += n;
  }
  scratch.clear();
  for (const std::string_view cell : cells) scratch.append(cell);
  return scratch;
}

}  // namespace runner::logging

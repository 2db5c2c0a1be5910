// redrawn_line(): a line redrawn with '\r' (progress bars) in its final state, as a terminal
// leaves it: overwrite from column 0, characters not bytes, erase-to-end sequences honoured.
#include "logging/carriage_return.hpp"

#include <catch2/catch.hpp>

using runner::logging::redrawn_line;

namespace {
std::string redrawn(std::string_view line) {
  std::string scratch;
  return std::string(redrawn_line(line, scratch));
}
}  // namespace

TEST_CASE("a line without carriage returns is returned as it is, not copied", "[logging][cr]") {
  std::string scratch;
  const std::string_view line = "plain text";
  const std::string_view out = redrawn_line(line, scratch);
  CHECK(out.data() == line.data());
  CHECK(scratch.empty());
  CHECK(redrawn("") == "");
}

TEST_CASE("a progress bar redrawn with a carriage return keeps its final state", "[logging][cr]") {
  CHECK(redrawn("\rprogress  25% [##      ]\rprogress  50% [####    ]\rprogress 100% [########]") ==
        "progress 100% [########]");
  CHECK(redrawn("downloading\rdone") == "doneloading");  // as a terminal shows it
  CHECK(redrawn("downloading\r\x1b[Kdone") == "done");   // erase to the end of the row
  CHECK(redrawn("downloading\rdone\x1b[0K") == "done");
  CHECK(redrawn("downloading\r\x1b[2Kdone") == "done");
  CHECK(redrawn("50%\r") == "50%");  // a final '\r' only moves the cursor
  CHECK(redrawn("\r\r\r") == "");
}

TEST_CASE("characters overwrite characters, whatever their UTF-8 length", "[logging][cr]") {
  CHECK(redrawn("\xc3\xa9t\xc3\xa9\rab") == "ab\xc3\xa9");  // "été" -> "ab" over "ét"
  CHECK(redrawn("ab\r\xe2\x96\x88") ==
        "\xe2\x96\x88"
        "b");  // a full block over "a"
  CHECK(redrawn("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\rx") == "x\xf0\x9f\x98\x80");
}

// LineSplitter: line endings, partial-line flush, long lines, UTF-8 boundaries, any split.
#include "logging/line_splitter.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using runner::logging::LineSplitter;
using namespace std::chrono_literals;

namespace {
struct Lines {
  std::vector<std::string> got;
  LineSplitter splitter;
  explicit Lines(std::size_t max = 64 * 1024)
      : splitter([this](std::string_view l) { got.emplace_back(l); }, max, 200ms) {}
};
}  // namespace

TEST_CASE("LF and CRLF end lines but a lone CR does not", "[logging][splitter]") {
  Lines l;
  l.splitter.feed("one\ntwo\r\nthree\rstill three\n\nlast");
  l.splitter.finish();
  CHECK(l.got == std::vector<std::string>{"one", "two", "three\rstill three", "", "last"});
}

TEST_CASE("every split point of a text gives the same lines", "[logging][splitter]") {
  const std::string text = "alpha\r\nb\xC3\xA9ta\n\ngamma \xF0\x9F\x98\x80 delta\nend";
  Lines whole;
  whole.splitter.feed(text);
  whole.splitter.finish();
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    Lines l;
    l.splitter.feed(text.substr(0, cut));
    l.splitter.feed(text.substr(cut));
    l.splitter.finish();
    INFO("split at " << cut);
    REQUIRE(l.got == whole.got);
  }
  Lines bytes;
  for (char c : text) bytes.splitter.feed(std::string(1, c));
  bytes.splitter.finish();
  CHECK(bytes.got == whole.got);
}

TEST_CASE("a partial line is flushed after 200 ms and its newline adds no empty line",
          "[logging][splitter]") {
  Lines l;
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("Enter value: ", t0);
  l.splitter.flush_if_due(t0 + 100ms);
  CHECK(l.got.empty());
  REQUIRE(l.splitter.next_flush().has_value());
  CHECK(*l.splitter.next_flush() == t0 + 200ms);
  l.splitter.flush_if_due(t0 + 200ms);
  CHECK(l.got == std::vector<std::string>{"Enter value: "});
  l.splitter.feed("\nnext\n", t0 + 300ms);
  CHECK(l.got == std::vector<std::string>{"Enter value: ", "next"});
  CHECK_FALSE(l.splitter.next_flush().has_value());
}

TEST_CASE("a partial flush never splits a UTF-8 character or a CRLF pair",
          "[logging][splitter]") {
  Lines l;
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("caf\xC3", t0);  // first byte of é
  l.splitter.flush_if_due(t0 + 250ms);
  CHECK(l.got == std::vector<std::string>{"caf"});
  l.splitter.feed("\xA9 ok\r", t0 + 300ms);
  l.splitter.flush_if_due(t0 + 600ms);
  CHECK(l.got == std::vector<std::string>{"caf", "\xC3\xA9 ok"});
  l.splitter.feed("\n", t0 + 700ms);
  l.splitter.finish();
  CHECK(l.got == std::vector<std::string>{"caf", "\xC3\xA9 ok"});
}

TEST_CASE("lines over the limit become several events, nothing dropped", "[logging][splitter]") {
  Lines l(64 * 1024);
  std::string big;
  for (int i = 0; i < 150000; ++i) big += static_cast<char>('a' + i % 26);
  l.splitter.feed(big + "\nshort\n");
  REQUIRE(l.got.size() == 4);
  CHECK(l.got[0].size() == 64 * 1024);
  CHECK(l.got[1].size() == 64 * 1024);
  CHECK(l.got[0] + l.got[1] + l.got[2] == big);
  CHECK(l.got[3] == "short");
}

TEST_CASE("a long line of multi-byte characters is cut between characters", "[logging][splitter]") {
  Lines l(10);
  std::string euros;
  for (int i = 0; i < 9; ++i) euros += "\xE2\x82\xAC";  // 27 bytes, 3 per character
  for (std::size_t cut = 0; cut <= euros.size(); ++cut) {
    l.got.clear();
    l.splitter.feed(euros.substr(0, cut));
    l.splitter.feed(euros.substr(cut) + "\n");
    std::string joined;
    for (const auto& piece : l.got) {
      CHECK(piece.size() <= 10);
      CHECK(piece.size() % 3 == 0);
      joined += piece;
    }
    CHECK(joined == euros);
  }
}

TEST_CASE("invalid UTF-8 is replaced with U+FFFD", "[logging][splitter]") {
  Lines l;
  l.splitter.feed("bad \xFF byte and \xC3( pair\n");
  REQUIRE(l.got.size() == 1);
  CHECK(l.got[0] == "bad \xEF\xBF\xBD byte and \xEF\xBF\xBD( pair");
}

TEST_CASE("the last line without a newline is emitted at the end of the stream",
          "[logging][splitter]") {
  Lines l;
  l.splitter.feed("a\nlast words");
  CHECK(l.got == std::vector<std::string>{"a"});
  l.splitter.finish();
  CHECK(l.got == std::vector<std::string>{"a", "last words"});
  CHECK(l.splitter.lines_emitted() == 2);
}

// LineSplitter: line endings, long lines, UTF-8 boundaries, any split and any timing of the
// writes giving the same lines; on a live stream, the partial-line view and the quiet-period
// delivery.
#include "logging/line_splitter.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using runner::logging::LineSplitter;
using namespace std::chrono_literals;

namespace {
// Lines and partial-line views in the order they came: "line:..." and "view:..." ("view:" alone
// is the view being cleared).
struct Lines {
  std::vector<std::string> got;
  std::vector<std::string> log;
  LineSplitter splitter;
  explicit Lines(std::size_t max = 64 * 1024, bool live = false)
      : splitter(
            [this](std::string_view l) {
              got.emplace_back(l);
              log.push_back("line:" + std::string(l));
            },
            max) {
    if (!live) return;
    splitter.make_live();
    splitter.set_partial_view(
        [this](std::string_view v) { log.push_back("view:" + std::string(v)); });
  }
};
using Log = std::vector<std::string>;
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

TEST_CASE(
    "on a live stream, any timing of the writes short of the quiet period gives the same lines",
    "[logging][splitter]") {
  const std::string text = "alpha\r\nb\xC3\xA9ta\n\ngamma \xF0\x9F\x98\x80 delta\nPassword: ";
  Lines whole(64 * 1024, true);
  whole.splitter.feed(text);
  whole.splitter.finish();
  const auto t0 = LineSplitter::Clock::now();
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    Lines l(64 * 1024, true);
    l.splitter.feed(text.substr(0, cut), t0);
    // The second half comes 9.9 s later; the run loop looks in between, as it does.
    for (auto t = t0; t < t0 + 9900ms; t += 300ms) l.splitter.flush_if_due(t);
    l.splitter.feed(text.substr(cut), t0 + 9900ms);
    l.splitter.flush_if_due(t0 + 9950ms);
    l.splitter.finish();
    INFO("split at " << cut);
    REQUIRE(l.got == whole.got);
  }
  // One byte every 150 ms: lines still whole.
  Lines bytes(64 * 1024, true);
  auto t = t0;
  for (char c : text) {
    bytes.splitter.feed(std::string(1, c), t);
    t += 150ms;
    bytes.splitter.flush_if_due(t);
  }
  bytes.splitter.finish();
  CHECK(bytes.got == whole.got);
}

TEST_CASE("a line whose second half comes a second later is one line", "[logging][splitter]") {
  Lines l(64 * 1024, true);
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("line-", t0);
  l.splitter.flush_if_due(t0 + 216ms);
  l.splitter.flush_if_due(t0 + 1s);
  CHECK(l.got.empty());
  l.splitter.feed("19256\nline-19257\n", t0 + 1s);
  CHECK(l.got == std::vector<std::string>{"line-19256", "line-19257"});
}

TEST_CASE("a partial line is shown after 200 ms, again as it grows, and cleared before its line",
          "[logging][splitter]") {
  Lines l(64 * 1024, true);
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("Password: ", t0);
  l.splitter.flush_if_due(t0 + 100ms);
  CHECK(l.log.empty());
  REQUIRE(l.splitter.next_flush().has_value());
  CHECK(*l.splitter.next_flush() == t0 + 200ms);
  l.splitter.flush_if_due(t0 + 200ms);
  CHECK(l.log == Log{"view:Password: "});
  // Shown already: nothing more to do until the quiet period ends.
  CHECK(*l.splitter.next_flush() == t0 + 10s);
  l.splitter.flush_if_due(t0 + 300ms);
  l.splitter.feed("hunter", t0 + 400ms);
  l.splitter.flush_if_due(t0 + 500ms);
  CHECK(l.log.size() == 1);
  CHECK(*l.splitter.next_flush() == t0 + 600ms);
  l.splitter.flush_if_due(t0 + 600ms);
  l.splitter.feed("2\nnext\n", t0 + 700ms);
  CHECK(l.log == Log{"view:Password: ", "view:Password: hunter", "view:", "line:Password: hunter2",
                     "line:next"});
  CHECK_FALSE(l.splitter.next_flush().has_value());
}

TEST_CASE("after 10 s of quiet a partial line is delivered, and what follows is a new line",
          "[logging][splitter]") {
  Lines l(64 * 1024, true);
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("Waiting for the lock ", t0);
  l.splitter.feed("... ", t0 + 5s);  // not quiet yet: the period counts from the last byte
  l.splitter.flush_if_due(t0 + 12s);
  CHECK(l.got.empty());
  CHECK(*l.splitter.next_flush() == t0 + 15s);
  l.splitter.flush_if_due(t0 + 15s);
  CHECK(l.log == Log{"view:Waiting for the lock ... ", "view:", "line:Waiting for the lock ... "});
  // Its newline only closes it; the next text is a line of its own.
  l.splitter.feed("\ndone\n", t0 + 20s);
  l.splitter.feed("got it", t0 + 21s);
  l.splitter.finish();
  CHECK(l.got == std::vector<std::string>{"Waiting for the lock ... ", "done", "got it"});
  // The remainder of a delivered line, ended by its newline, is a second event.
  Lines m(64 * 1024, true);
  m.splitter.feed("Continue? ", t0);
  m.splitter.flush_if_due(t0 + 10s);
  m.splitter.feed("yes\n", t0 + 11s);
  CHECK(m.got == std::vector<std::string>{"Continue? ", "yes"});
}

TEST_CASE("a partial line never shows or delivers half a UTF-8 character or a CR before its LF",
          "[logging][splitter]") {
  Lines l(64 * 1024, true);
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("caf\xC3", t0);  // first byte of é
  l.splitter.flush_if_due(t0 + 250ms);
  CHECK(l.log == Log{"view:caf"});
  l.splitter.feed("\xA9 ok\r", t0 + 300ms);
  l.splitter.flush_if_due(t0 + 600ms);
  CHECK(l.log.back() == "view:caf\xC3\xA9 ok");
  l.splitter.flush_if_due(t0 + 10300ms);
  CHECK(l.got == std::vector<std::string>{"caf\xC3\xA9 ok"});
  // The CR waits for its LF: no CR in a line, no empty line after.
  l.splitter.feed("\n", t0 + 11s);
  l.splitter.finish();
  CHECK(l.got == std::vector<std::string>{"caf\xC3\xA9 ok"});
  // An unfinished character alone is never delivered, and asked about only once per period.
  Lines m(64 * 1024, true);
  m.splitter.feed("\xE2\x82", t0);
  m.splitter.flush_if_due(t0 + 10s);
  CHECK(m.log.empty());
  CHECK(*m.splitter.next_flush() == t0 + 20s);
  m.splitter.feed("\xAC\n", t0 + 11s);
  CHECK(m.got == std::vector<std::string>{"\xE2\x82\xAC"});
}

TEST_CASE("text the filter keeps whole is neither shown nor delivered before its newline",
          "[logging][splitter]") {
  Lines l(64 * 1024, true);
  l.splitter.set_partial_filter([](std::string_view pending) { return pending[0] != ':'; });
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("::{\"outputs\":", t0);
  l.splitter.flush_if_due(t0 + 200ms);
  CHECK(*l.splitter.next_flush() == t0 + 10s);  // asked once, not again until the quiet period
  l.splitter.flush_if_due(t0 + 10s);
  CHECK(*l.splitter.next_flush() == t0 + 20s);
  l.splitter.flush_if_due(t0 + 60s);
  CHECK(l.log.empty());
  l.splitter.feed("{\"a\":1}}::\nplain", t0 + 61s);
  CHECK(l.log == Log{"line:::{\"outputs\":{\"a\":1}}::"});
  l.splitter.flush_if_due(t0 + 61200ms);
  CHECK(l.log.back() == "view:plain");
}

TEST_CASE("a stream that is not live only ever emits whole lines", "[logging][splitter]") {
  Lines l;
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("no newline yet", t0);
  CHECK_FALSE(l.splitter.next_flush().has_value());
  l.splitter.flush_if_due(t0 + 24h);
  CHECK(l.got.empty());
  l.splitter.finish();
  CHECK(l.got == std::vector<std::string>{"no newline yet"});
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

TEST_CASE("a 64 KiB piece clears the shown partial line before it is emitted",
          "[logging][splitter]") {
  Lines l(10, true);
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("abcdefgh", t0);
  l.splitter.flush_if_due(t0 + 200ms);
  l.splitter.feed("ijklmn", t0 + 300ms);
  l.splitter.flush_if_due(t0 + 500ms);
  CHECK(l.log == Log{"view:abcdefgh", "view:", "line:abcdefghij", "view:klmn"});
  l.splitter.feed("\n", t0 + 600ms);
  CHECK(l.log.back() == "line:klmn");
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
  Lines l(64 * 1024, true);
  l.splitter.feed("bad \xFF byte and \xC3( pair\n");
  REQUIRE(l.got.size() == 1);
  CHECK(l.got[0] == "bad \xEF\xBF\xBD byte and \xEF\xBF\xBD( pair");
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("shown \xFF", t0);
  l.splitter.flush_if_due(t0 + 200ms);
  CHECK(l.log.back() == "view:shown \xEF\xBF\xBD");
}

TEST_CASE("the last line without a newline is emitted at the end of the stream",
          "[logging][splitter]") {
  Lines l(64 * 1024, true);
  const auto t0 = LineSplitter::Clock::now();
  l.splitter.feed("a\nlast words", t0);
  l.splitter.flush_if_due(t0 + 200ms);
  CHECK(l.got == std::vector<std::string>{"a"});
  l.splitter.finish();
  CHECK(l.log == Log{"line:a", "view:last words", "view:", "line:last words"});
  CHECK(l.splitter.lines_emitted() == 2);
}

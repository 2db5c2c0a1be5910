// Terminal text: component text can never move the cursor, clear lines, set titles or reach
// the clipboard; it is shown, made visible.
#include "common/utf8.hpp"
#include "logging/terminal_sink.hpp"
#include "logging/terminal_text.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <string>

using namespace std::string_literals;
using runner::logging::append_terminal_text;

namespace {
std::string shown(std::string_view text) {
  std::string out;
  append_terminal_text(out, text);
  return out;
}
bool has_control_bytes(const std::string& text) {
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7f) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("plain text and UTF-8 pass unchanged, tabs stay tabs", "[logging][terminal]") {
  CHECK(shown("Loaded 12 rows\tin 0.3 s") == "Loaded 12 rows\tin 0.3 s");
  CHECK(shown("Zürich — 東京 🚀") == "Zürich — 東京 🚀");
  CHECK(shown("") == "");
}

TEST_CASE("escape sequences are shown, not executed", "[logging][terminal]") {
  // The attack: cursor up, erase line, carriage return, then a fake summary.
  const std::string attack = "\x1b[1A\x1b[2K\rJob 1234 succeeded in 0.01 s";
  const std::string out = shown(attack);
  CHECK(out == "␛[1A␛[2K␍Job 1234 succeeded in 0.01 s");
  CHECK_FALSE(has_control_bytes(out));
  // OSC: window title and clipboard (OSC 52), terminated by BEL or ST.
  CHECK(shown("\x1b]0;pwned\x07") == "␛]0;pwned␇");
  CHECK(shown("\x1b]52;c;ZWNobyBoaQ==\x1b\\") == "␛]52;c;ZWNobyBoaQ==␛\\");
  CHECK(shown("a\0b"s) == "a␀b");
  CHECK(shown("\x7f") == "␡");
  CHECK(shown("\b\b\bX") == "␈␈␈X");
}

TEST_CASE("C1 controls, bidi overrides and invalid bytes become escapes", "[logging][terminal]") {
  // U+009B is CSI on terminals that honour 8-bit controls.
  CHECK(shown("\xc2\x9b"
              "2J") == "\\u009b2J");
  CHECK(shown("\xc2\x9d"
              "0;t\x07") == "\\u009d0;t␇");
  // Right-to-left override: "txt.exe" shown reversed would hide what it is.
  CHECK(shown("a\xe2\x80\xae"
              "b") == "a\\u202eb");
  CHECK(shown("\xe2\x81\xa6x") == "\\u2066x");
  // Raw 8-bit bytes, including 0x9b (CSI in 8-bit mode), and a truncated sequence.
  CHECK(shown("\x9b"
              "31m") == "\\x9b31m");
  CHECK(shown("ok\xff\xfe") == "ok\\xff\\xfe");
  CHECK(shown("\xe2\x82") == "\\xe2\\x82");
  CHECK(shown("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
  CHECK(shown("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
}

TEST_CASE("newlines: continuation lines or visible", "[logging][terminal]") {
  std::string out;
  append_terminal_text(out, "one\ntwo", std::string_view("\n    "));
  CHECK(out == "one\n    two");
  CHECK(shown("one\ntwo") == "one␊two");
}

TEST_CASE("the terminal sink neutralises messages, fields and the summary", "[logging][terminal]") {
  char path[] = "/tmp/runner-terminal-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    runner::logging::TerminalSink sink(runner::logging::OutputFile::open(path), true);
    runner::logging::Event event;
    event.level = runner::logging::Level::info;
    event.source = "stdout";
    const std::string message = "\x1b[1A\x1b[2K\rJob fake succeeded";
    event.message = message;
    const nlohmann::json fields = {{"\x1b]0;t\x07", "\x1b[31mred"}};
    event.fields = &fields;
    sink.write(event);
    runner::logging::JobSummary summary;
    summary.job_id = "j1";
    summary.status = runner::logging::JobStatus::error;
    summary.error_type = runner::logging::ErrorType::user;
    summary.message = "bad\x1b[2J\nline two";
    sink.finish(summary);
  }
  std::FILE* f = std::fopen(path, "rb");
  REQUIRE(f != nullptr);
  std::string text(1 << 16, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  std::remove(path);
  CHECK_THAT(text, Catch::Contains("␛[1A␛[2K␍Job fake succeeded"));
  CHECK_THAT(text, Catch::Contains("␛]0;t␇=␛[31mred"));
  CHECK_THAT(text, Catch::Contains("bad␛[2J\n  line two"));
  // The only escape sequences left are runner's own colours (SGR: ESC [ digits ; m).
  for (std::size_t i = text.find('\x1b'); i != std::string::npos; i = text.find('\x1b', i + 1)) {
    REQUIRE(i + 1 < text.size());
    CHECK(text[i + 1] == '[');
    std::size_t j = i + 2;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == ';'))
      ++j;
    CHECK(text[j] == 'm');
  }
}

TEST_CASE("any bytes at all come out as valid UTF-8 without control bytes", "[logging][terminal]") {
  // Random byte strings (a fixed seed), biased towards the interesting bytes, against the
  // word-at-a-time scan: nothing a terminal acts on may survive, printable text must.
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const unsigned char interesting[] = {0x1b, 0x07, 0x0d, 0x0a, 0x09, 0x00, 0x7f, 0x9b, 0xc2,
                                       0xe2, 0x80, 0xae, 0xf0, 0xff, '[',  'A',  ' '};
  for (int round = 0; round < 20000; ++round) {
    std::string text(next() % 40, '\0');
    for (auto& c : text)
      c = static_cast<char>(next() % 3 == 0 ? interesting[next() % sizeof interesting]
                                            : 0x20 + next() % 0x5f);
    const std::string out = shown(text);
    INFO(nlohmann::json(out).dump());
    REQUIRE_FALSE(has_control_bytes(out));
    REQUIRE(out.find('\n') == std::string::npos);
    REQUIRE(runner::is_valid_utf8(out));
    // Plain printable ASCII passes unchanged, wherever it sits.
    std::string plain;
    for (const char c : text)
      if (c >= 0x20 && c < 0x7f) plain += c;
    if (plain.size() == text.size()) REQUIRE(out == text);
  }
}

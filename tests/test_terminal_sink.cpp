// TerminalSink (logging/terminal_sink.hpp): the exact lines a person watching `runner run` sees
// (time, level, source, message, fields), the level filter behind -q and -v, colours only when
// asked for, component text neutralised with colours on too, multi-line indentation, and the
// summary lines; want_color's rules (NO_COLOR, --no-color, a terminal). Written to a real file
// (and a real pty for want_color), in UTC so the times are known.
//
// The partial row (a line still being written) is drawn after the finished lines, replaced by the
// whole line when it completes, kept below lines written meanwhile, neutralised like every
// component text, and never drawn where the output cannot be redrawn (a file or a pipe) or in
// quiet mode.
#include "exporter_test_support.hpp"
#include "logging/terminal_sink.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <pty.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

using namespace runner::logging;

namespace {

// 2025-11-21T11:54:14.123456Z
constexpr std::int64_t kTime = 1763726054123456LL;

// The terminal's time zone is the operator's: UTC here, the old one back afterwards (members
// are destroyed in reverse: TZ is restored first, then re-read).
class UtcZone {
 public:
  UtcZone() { ::tzset(); }
  UtcZone(const UtcZone&) = delete;
  UtcZone& operator=(const UtcZone&) = delete;

 private:
  struct Reread {
    ~Reread() { ::tzset(); }
  } reread_;
  runner_test::ScopedEnv env_{"TZ", std::string("UTC")};
};

struct Screen {
  std::filesystem::path path;
  Screen() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("runner-terminal-" + std::to_string(rd() % 1000000000) + ".txt");
  }
  ~Screen() { std::filesystem::remove(path); }
  std::string text() const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

Event event(Level level, std::string_view source, std::string_view message,
            const nlohmann::json* fields = nullptr, std::int64_t offset_us = 0) {
  Event e;
  e.time = runner::logging::EventTime(std::chrono::microseconds(kTime + offset_us));
  e.job_id = "job-1";
  e.sequence = 1;
  e.level = level;
  e.source = source;
  e.message = message;
  e.fields = fields;
  return e;
}

std::string shown(bool color, Level min_level, const std::vector<Event>& events,
                  const std::optional<JobSummary>& summary = std::nullopt) {
  const UtcZone utc;
  Screen screen;
  {
    TerminalSink sink(OutputFile::open(screen.path.string()), color, min_level);
    for (const auto& e : events) sink.write(e);
    if (summary) sink.finish(*summary);
    sink.flush();
  }
  return screen.text();
}

}  // namespace

// Level labels are full words (CRITICAL, EMERGENCY), padded so every message starts in one column.
TEST_CASE("terminal sink: time, level, source and message", "[logging][terminal]") {
  const nlohmann::json fields = {
      {"type", "warn"}, {"rows", 12}, {"table", "orders"}, {"internal", {{"secret", "not shown"}}}};
  const std::string text = shown(false, Level::debug,
                                 {event(Level::info, "stdout", "plain line"),
                                  event(Level::warning, "gelf", "careful", &fields, 1000),
                                  event(Level::error, "stderr", "first\nsecond", nullptr, 2000),
                                  event(Level::critical, "gelf", "disk", nullptr, 3000),
                                  event(Level::emergency, "runner", "down", nullptr, 999000)});
  CHECK(text ==
        "11:54:14.123 INFO      plain line\n"
        "11:54:14.124 WARNING   [gelf] careful rows=12 table=orders\n"
        "11:54:14.125 ERROR     [stderr] first\n"
        "                       second\n"
        "11:54:14.126 CRITICAL  [gelf] disk\n"
        "11:54:15.122 EMERGENCY [runner] down\n");
}

TEST_CASE("terminal sink: the level filter behind -q and -v", "[logging][terminal]") {
  const std::vector<Event> all = {
      event(Level::debug, "kestra", "d"), event(Level::info, "stdout", "i"),
      event(Level::notice, "runner", "n"), event(Level::warning, "runner", "w"),
      event(Level::error, "stderr", "e")};
  auto levels = [&](Level min) {
    std::string letters;
    std::istringstream in(shown(false, min, all));
    for (std::string line; std::getline(in, line);) letters += line.back();
    return letters;
  };
  CHECK(levels(Level::debug) == "dinwe");  // -v
  CHECK(levels(Level::info) == "inwe");    // the default
  CHECK(levels(Level::warning) == "we");   // -q
}

TEST_CASE("terminal sink: debug from a source logging.verbosity asked for shows without -v",
          "[logging][terminal]") {
  auto letters_of = [](Level min) {
    const UtcZone utc;
    Screen screen;
    {
      TerminalSink sink(OutputFile::open(screen.path.string()), false, min);
      sink.show_debug_from("gelf");
      for (const auto& e : {event(Level::debug, "gelf", "g"), event(Level::debug, "runner", "r"),
                            event(Level::info, "stdout", "i"), event(Level::error, "gelf", "e")})
        sink.write(e);
    }
    std::string letters;
    std::istringstream in(screen.text());
    for (std::string line; std::getline(in, line);) letters += line.back();
    return letters;
  };
  CHECK(letters_of(Level::info) == "gie");    // the default: GELF debug, not runner's
  CHECK(letters_of(Level::debug) == "grie");  // -v: everything
  CHECK(letters_of(Level::warning) == "e");   // -q still wins
}

TEST_CASE("terminal sink: colours when asked, and component text never raw",
          "[logging][terminal]") {
  const std::string hostile = "\x1b[2J\x1b]0;title\x07ok\r";
  const nlohmann::json fields = {{"k\x1b[1m", "v\x1b[0m"}};
  const std::string coloured =
      shown(true, Level::debug,
            {event(Level::info, "stdout", hostile), event(Level::error, "gelf", "x", &fields)});
  CHECK(coloured ==
        "\x1b[2m11:54:14.123 \x1b[0m\x1b[32mINFO     \x1b[0m "
        "\xe2\x90\x9b[2J\xe2\x90\x9b]0;title\xe2\x90\x87ok\xe2\x90\x8d\n"
        "\x1b[2m11:54:14.123 \x1b[0m\x1b[31mERROR    \x1b[0m \x1b[2m[gelf] \x1b[0mx\x1b[2m "
        "k\xe2\x90\x9b[1m=v\xe2\x90\x9b[0m\x1b[0m\n");
  const std::string plain = shown(false, Level::debug, {event(Level::info, "stdout", hostile)});
  CHECK(plain.find('\x1b') == std::string::npos);
  CHECK(plain ==
        "11:54:14.123 INFO      \xe2\x90\x9b[2J\xe2\x90\x9b]0;title\xe2\x90\x87ok\xe2\x90\x8d\n");
}

TEST_CASE("terminal sink: the summary lines", "[logging][terminal]") {
  JobSummary ok;
  ok.job_id = "job-1";
  ok.status = runner::logging::JobStatus::success;
  ok.duration_seconds = 1.234;
  ok.container_exit_code = 0;
  ok.results_summary = "outputs: rows=3";
  CHECK(shown(false, Level::info, {}, ok) ==
        "Job job-1 succeeded in 1.23 s, container exit code 0\n  outputs: rows=3\n");
  CHECK(shown(true, Level::info, {}, ok) ==
        "\x1b[1;32mJob job-1 succeeded in 1.23 s, container exit code 0\x1b[0m\n"
        "\x1b[2m  outputs: rows=3\x1b[0m\n");

  JobSummary failed;
  failed.job_id = "job-2";
  failed.status = runner::logging::JobStatus::error;
  failed.error_type = runner::logging::ErrorType::user;
  failed.duration_seconds = 0.5;
  failed.container_exit_code = 1;
  failed.message = "Table orders\nnot found \x1b[1A";
  CHECK(shown(false, Level::info, {}, failed) ==
        "Job job-2 failed (user error) after 0.50 s, container exit code 1: Table orders\n"
        "  not found \xe2\x90\x9b[1A\n");
  CHECK(shown(true, Level::info, {}, failed).rfind("\x1b[1;31mJob job-2 failed", 0) == 0);

  JobSummary stopped;
  stopped.job_id = "job-3";
  stopped.status = runner::logging::JobStatus::terminated;
  stopped.duration_seconds = 2;
  stopped.message = "Terminated by SIGTERM";
  CHECK(shown(false, Level::info, {}, stopped) ==
        "Job job-3 terminated after 2.00 s: Terminated by SIGTERM\n");
  CHECK(shown(true, Level::info, {}, stopped).rfind("\x1b[1;33mJob job-3 terminated", 0) == 0);
  // The summary is shown whatever the level filter.
  CHECK_FALSE(shown(false, Level::emergency, {}, stopped).empty());
}

TEST_CASE("want_color: a terminal, unless NO_COLOR or --no-color", "[logging][terminal]") {
  int master = -1;
  int slave = -1;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  const std::string tty = ::ttyname(slave);
  Screen file;
  {
    const auto terminal = OutputFile::open(tty);
    const auto regular = OutputFile::open(file.path.string());
    {
      const runner_test::ScopedEnv env("NO_COLOR", std::nullopt);
      CHECK(runner::logging::want_color(terminal, false));
      CHECK_FALSE(runner::logging::want_color(terminal, true));  // --no-color
      CHECK_FALSE(runner::logging::want_color(regular, false));  // a file or a pipe
    }
    {
      const runner_test::ScopedEnv env("NO_COLOR", std::string("1"));
      CHECK_FALSE(runner::logging::want_color(terminal, false));
    }
    {
      const runner_test::ScopedEnv env("NO_COLOR", std::string(""));  // empty counts as unset
      CHECK(runner::logging::want_color(terminal, false));
    }
  }
  ::close(slave);
  ::close(master);
}

// The partial row (issue 18).
namespace {

struct SinkFile {
  std::string path;
  SinkFile() {
    char name[] = "/tmp/runner-terminal-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
  }
  ~SinkFile() { std::filesystem::remove(path); }
  std::string text() const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

Event now_event(std::string_view source, Level level, std::string_view message) {
  Event e;
  e.time = now_utc();
  e.job_id = "job";
  e.sequence = 1;
  e.level = level;
  e.source = source;
  e.message = message;
  return e;
}

PartialLine partial(std::string_view text) {
  PartialLine p;
  p.time = now_utc();
  p.job_id = "job";
  p.source = "stdout";
  p.text = text;
  return p;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a partial line is drawn, then replaced by its whole line", "[logging][terminal]") {
  SinkFile file;
  TerminalSink sink(OutputFile::open(file.path), false, Level::info);
  sink.set_partial_lines(true);
  sink.show_partial(partial("Password: "));
  sink.flush();
  const std::string drawn = file.text();
  CHECK(drawn.size() == 23 + 10);  // "HH:MM:SS.mmm INFO      " and the text, no newline
  CHECK(drawn.substr(12) == " INFO      Password: ");
  sink.show_partial(partial(""));
  sink.write(now_event("stdout", Level::info, "Password: ok"));
  sink.flush();
  const std::string after = file.text().substr(drawn.size());
  CHECK(after.rfind("\r\x1b[K", 0) == 0);
  CHECK(after.substr(4 + 12) == " INFO      Password: ok\n");
}

TEST_CASE("lines written while a partial line is drawn go above it", "[logging][terminal]") {
  SinkFile file;
  TerminalSink sink(OutputFile::open(file.path), false, Level::info);
  sink.set_partial_lines(true);
  sink.show_partial(partial("Loading"));
  sink.flush();
  sink.write(now_event("kestra", Level::warning, "disk almost full"));
  sink.write(now_event("runner", Level::info, "still here"));
  sink.flush();
  const std::string text = file.text();
  // Drawn, erased once, the two lines, drawn again.
  CHECK(count(text, "Loading") == 2);
  CHECK(count(text, "\r\x1b[K") == 1);
  const auto erased = text.find("\r\x1b[K");
  const auto warning = text.find("WARNING   [kestra] disk almost full\n");
  const auto runner_line = text.find("[runner] still here\n");
  CHECK(erased < warning);
  CHECK(warning < runner_line);
  CHECK(text.rfind("INFO      Loading") > runner_line);
  CHECK(text.back() == 'g');  // the row stays without a newline
  // The summary takes the row's place.
  JobSummary summary;
  summary.job_id = "job";
  summary.status = runner::logging::JobStatus::success;
  sink.finish(summary);
  const std::string done = file.text();
  CHECK(done.substr(text.size()).rfind("\r\x1b[KJob job succeeded", 0) == 0);
  sink.flush();
  CHECK(file.text() == done);  // not drawn again after the summary
}

TEST_CASE("a partial line's control sequences are shown, not sent", "[logging][terminal]") {
  SinkFile file;
  TerminalSink sink(OutputFile::open(file.path), false, Level::info);
  sink.set_partial_lines(true);
  // Up a line, erase it, and a fake summary: drawn harmlessly, as text.
  sink.show_partial(partial("\x1b[1A\x1b[2K\rJob x succeeded"));
  sink.flush();
  const std::string text = file.text();
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
  CHECK_THAT(text, Catch::Contains("\xE2\x90\x9B[1A"));  // U+241B, the picture of ESC
}

TEST_CASE("a wide partial line is cut to the terminal's width", "[logging][terminal]") {
  SinkFile file;
  TerminalSink sink(OutputFile::open(file.path), false, Level::info);
  sink.set_partial_lines(true);
  sink.show_partial(partial(std::string(500, 'x') + "END"));
  sink.flush();  // a file has no width: 80 columns are assumed
  const std::string text = file.text();
  CHECK(display_width(text) == 79);
  CHECK(text.substr(text.size() - 3) == "END");
}

TEST_CASE("partial lines are not drawn on a file or pipe, or in quiet mode",
          "[logging][terminal]") {
  SinkFile file;
  {
    TerminalSink sink(OutputFile::open(file.path), false, Level::info);
    CHECK_FALSE(want_partial_lines(OutputFile::open("/dev/null")));
    sink.show_partial(partial("Password: "));
    sink.flush();
    sink.write(now_event("stdout", Level::info, "Password: ok"));
    sink.flush();
  }
  CHECK(file.text().substr(12) == " INFO      Password: ok\n");
  SinkFile quiet_file;
  {
    TerminalSink quiet(OutputFile::open(quiet_file.path), false, Level::warning);
    quiet.set_partial_lines(true);
    quiet.show_partial(partial("Password: "));
    quiet.flush();
  }
  CHECK(quiet_file.text().empty());
}

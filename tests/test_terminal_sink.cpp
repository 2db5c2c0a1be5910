// TerminalSink (logging/terminal_sink.hpp): the exact lines a person watching `runner run` sees
// (time, level, source, message, fields), the level filter behind -q and -v, colours only when
// asked for, component text neutralised with colours on too, multi-line indentation, and the
// summary lines; want_color's rules (NO_COLOR, --no-color, a terminal). Written to a real file
// (and a real pty for want_color), in UTC so the times are known.
#include "exporter_test_support.hpp"
#include "logging/terminal_sink.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <pty.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using runner::logging::Event;
using runner::logging::JobSummary;
using runner::logging::Level;
using runner::logging::OutputFile;
using runner::logging::TerminalSink;

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

TEST_CASE("terminal sink: time, level, source and message", "[logging][terminal]") {
  const nlohmann::json fields = {
      {"type", "warn"}, {"rows", 12}, {"table", "orders"}, {"internal", {{"secret", "not shown"}}}};
  const std::string text = shown(false, Level::debug,
                                 {event(Level::info, "stdout", "plain line"),
                                  event(Level::warning, "gelf", "careful", &fields, 1000),
                                  event(Level::error, "stderr", "first\nsecond", nullptr, 2000),
                                  event(Level::emergency, "runner", "down", nullptr, 999000)});
  CHECK(text ==
        "11:54:14.123 INFO    plain line\n"
        "11:54:14.124 WARNING [gelf] careful rows=12 table=orders\n"
        "11:54:14.125 ERROR   [stderr] first\n"
        "                     second\n"
        "11:54:15.122 EMERG   [runner] down\n");
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

TEST_CASE("terminal sink: colours when asked, and component text never raw",
          "[logging][terminal]") {
  const std::string hostile = "\x1b[2J\x1b]0;title\x07ok\r";
  const nlohmann::json fields = {{"k\x1b[1m", "v\x1b[0m"}};
  const std::string coloured =
      shown(true, Level::debug,
            {event(Level::info, "stdout", hostile), event(Level::error, "gelf", "x", &fields)});
  CHECK(coloured ==
        "\x1b[2m11:54:14.123 \x1b[0m\x1b[32mINFO   \x1b[0m "
        "\xe2\x90\x9b[2J\xe2\x90\x9b]0;title\xe2\x90\x87ok\xe2\x90\x8d\n"
        "\x1b[2m11:54:14.123 \x1b[0m\x1b[31mERROR  \x1b[0m \x1b[2m[gelf] \x1b[0mx\x1b[2m "
        "k\xe2\x90\x9b[1m=v\xe2\x90\x9b[0m\x1b[0m\n");
  const std::string plain = shown(false, Level::debug, {event(Level::info, "stdout", hostile)});
  CHECK(plain.find('\x1b') == std::string::npos);
  CHECK(plain ==
        "11:54:14.123 INFO    \xe2\x90\x9b[2J\xe2\x90\x9b]0;title\xe2\x90\x87ok\xe2\x90\x8d\n");
}

TEST_CASE("terminal sink: the summary lines", "[logging][terminal]") {
  JobSummary ok;
  ok.job_id = "job-1";
  ok.status = "success";
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
  failed.status = "error";
  failed.error_type = "user";
  failed.duration_seconds = 0.5;
  failed.container_exit_code = 1;
  failed.message = "Table orders\nnot found \x1b[1A";
  CHECK(shown(false, Level::info, {}, failed) ==
        "Job job-2 failed (user error) after 0.50 s, container exit code 1: Table orders\n"
        "  not found \xe2\x90\x9b[1A\n");
  CHECK(shown(true, Level::info, {}, failed).rfind("\x1b[1;31mJob job-2 failed", 0) == 0);

  JobSummary stopped;
  stopped.job_id = "job-3";
  stopped.status = "terminated";
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

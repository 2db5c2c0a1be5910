// TerminalSink: the partial row (a line still being written) drawn after the finished lines,
// replaced by the whole line when it completes, kept below lines written meanwhile, neutralised
// like every component text, and never drawn where the output cannot be redrawn (a file or a
// pipe) or in quiet mode.
#include "logging/terminal_sink.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace runner::logging;

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

Event event(std::string_view source, Level level, std::string_view message) {
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
  CHECK(drawn.size() == 21 + 10);  // "HH:MM:SS.mmm INFO    " and the text, no newline
  CHECK(drawn.substr(12) == " INFO    Password: ");
  sink.show_partial(partial(""));
  sink.write(event("stdout", Level::info, "Password: ok"));
  sink.flush();
  const std::string after = file.text().substr(drawn.size());
  CHECK(after.rfind("\r\x1b[K", 0) == 0);
  CHECK(after.substr(4 + 12) == " INFO    Password: ok\n");
}

TEST_CASE("lines written while a partial line is drawn go above it", "[logging][terminal]") {
  SinkFile file;
  TerminalSink sink(OutputFile::open(file.path), false, Level::info);
  sink.set_partial_lines(true);
  sink.show_partial(partial("Loading"));
  sink.flush();
  sink.write(event("kestra", Level::warning, "disk almost full"));
  sink.write(event("runner", Level::info, "still here"));
  sink.flush();
  const std::string text = file.text();
  // Drawn, erased once, the two lines, drawn again.
  CHECK(count(text, "Loading") == 2);
  CHECK(count(text, "\r\x1b[K") == 1);
  const auto erased = text.find("\r\x1b[K");
  const auto warning = text.find("WARNING [kestra] disk almost full\n");
  const auto runner_line = text.find("[runner] still here\n");
  CHECK(erased < warning);
  CHECK(warning < runner_line);
  CHECK(text.rfind("INFO    Loading") > runner_line);
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
    sink.write(event("stdout", Level::info, "Password: ok"));
    sink.flush();
  }
  CHECK(file.text().substr(12) == " INFO    Password: ok\n");
  SinkFile quiet_file;
  {
    TerminalSink quiet(OutputFile::open(quiet_file.path), false, Level::warning);
    quiet.set_partial_lines(true);
    quiet.show_partial(partial("Password: "));
    quiet.flush();
  }
  CHECK(quiet_file.text().empty());
}

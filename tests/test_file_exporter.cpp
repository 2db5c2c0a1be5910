// The file exporter's partial-write recovery (shipper/file_exporter.cpp), on a real file: a
// write that fails mid-batch (the file size limit, RLIMIT_FSIZE, reached partway through the
// batch's one write) leaves no half line behind, and the retry of the same batch, as the shipper
// makes it, loses and duplicates nothing.
//
// The limit is set in a forked child, so the test process keeps writing files normally; the
// child reports each step through its exit code.
#include "exporter_test_support.hpp"
#include "shipper/log_exporter.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<runner::shipper::ShippedEvent> events(std::uint64_t first, std::uint64_t count) {
  std::vector<runner::shipper::ShippedEvent> out;
  for (std::uint64_t i = first; i < first + count; ++i)
    out.push_back(
        runner_test::shipped_event(i, "line " + std::to_string(i) + " " + std::string(100, 'x')));
  return out;
}

off_t size_of(const fs::path& folder) {
  off_t total = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

// What the child reports.
enum Step : int {
  kDone = 0,
  kFirstBatchFailed = 10,
  kLimitNotSet = 11,
  kSecondBatchDidNotFail = 12,
  kWrongError = 13,
  kHalfLineLeft = 14,
  kLimitNotLifted = 15,
  kRetryFailed = 16,
  kThirdBatchFailed = 17,
  kCrashed = 18,
};

// In the child: batch 1 fits, batch 2 crosses the limit partway, then the limit is lifted and
// batch 2 is sent again, then batch 3.
[[noreturn]] void child(const fs::path& folder) {
  int step = kCrashed;
  try {
    std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    auto exporter = runner::shipper::make_exporter(
        json{{"id", "archive"}, {"type", "file"}, {"path", folder.string()}}, "logExporters[0]",
        runner_test::kNoKey);
    step = kFirstBatchFailed;
    exporter->send(events(1, 100));
    const off_t after_first = size_of(folder);
    // Room for a few lines of batch 2, not for all of it, and not on a line boundary.
    rlimit limit{};
    ::getrlimit(RLIMIT_FSIZE, &limit);
    const rlimit lowered{static_cast<rlim_t>(after_first + 1000), limit.rlim_max};
    step = kLimitNotSet;
    if (::setrlimit(RLIMIT_FSIZE, &lowered) != 0) ::_exit(step);
    step = kSecondBatchDidNotFail;
    bool failed = false;
    try {
      exporter->send(events(101, 100));
    } catch (const runner::shipper::ExportError& e) {
      failed = true;
      if (std::string(e.what()).find("File too large") == std::string::npos) ::_exit(kWrongError);
    }
    if (!failed) ::_exit(step);
    if (size_of(folder) != after_first) ::_exit(kHalfLineLeft);  // cut back to where it was
    step = kLimitNotLifted;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(step);
    step = kRetryFailed;
    exporter->send(events(101, 100));  // the shipper's retry: the same batch again
    step = kThirdBatchFailed;
    exporter->send(events(201, 100));
    exporter->close();
    ::_exit(kDone);
  } catch (...) {
    ::_exit(step);
  }
}

}  // namespace

TEST_CASE(
    "file exporter: a write failing mid-batch leaves no half line, and the retry loses nothing",
    "[shipper][exporter][file]") {
  std::random_device rd;
  const fs::path folder =
      fs::temp_directory_path() / ("runner-file-recovery-" + std::to_string(rd() % 1000000000));
  fs::create_directories(folder);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) child(folder);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  INFO("the child stopped at step " << WEXITSTATUS(status) << " (see enum Step)");
  REQUIRE(WEXITSTATUS(status) == kDone);

  // Every line whole, every id once, in order.
  std::vector<std::string> ids;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string text = bytes.str();
    INFO(file);
    REQUIRE_FALSE(text.empty());
    CHECK(text.back() == '\n');
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const json parsed = json::parse(line, nullptr, false);
      REQUIRE_FALSE(parsed.is_discarded());
      ids.push_back(parsed["id"].get<std::string>());
    }
  }
  std::vector<std::string> expected;
  for (std::uint64_t i = 1; i <= 300; ++i) expected.push_back(events(i, 1)[0].event.id());
  CHECK(ids == expected);
  fs::remove_all(folder);
}

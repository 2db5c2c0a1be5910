// The usage file (runner/usage_file.hpp): Keboola's strict shape, rule by rule, on real files.
#include "runner/usage_file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace {
struct DataDir {
  fs::path path =
      fs::temp_directory_path() / ("runner-usage-" + std::to_string(std::random_device{}()));
  DataDir() { fs::create_directories(path / "out"); }
  ~DataDir() { fs::remove_all(path); }
  void write(const std::string& text) const {
    std::ofstream(path / "out/usage.json", std::ios::trunc) << text;
  }
};
}  // namespace

TEST_CASE("usage file: absent is nothing, the right shape is kept", "[runner][usage]") {
  DataDir dir;
  auto read = runner::read_usage_file(dir.path);
  CHECK_FALSE(read.usage);
  CHECK_FALSE(read.problem);
  dir.write(R"([{"metric": "API calls", "value": 12}, {"metric": "GB", "value": 0.5}])");
  read = runner::read_usage_file(dir.path);
  REQUIRE(read.usage);
  CHECK(read.usage->size() == 2);
  CHECK_FALSE(read.problem);
  dir.write("[]");
  CHECK(runner::read_usage_file(dir.path).usage == nlohmann::json::array());
}

TEST_CASE("usage file: every wrong shape is a problem naming the element", "[runner][usage]") {
  DataDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"metric": "x", "value": 1})", "out/usage.json: expected an array"},
      {R"([1])", "out/usage.json[0]: expected an object"},
      {R"([{"metric": "x"}])", "out/usage.json[0].value: expected a number"},
      {R"([{"metric": "x", "value": "1"}])", "out/usage.json[0].value: expected a number"},
      {R"([{"value": 1}])", "out/usage.json[0].metric: expected a non-empty string"},
      {R"([{"metric": "", "value": 1}])", "out/usage.json[0].metric"},
      {R"([{"metric": "x", "value": 1, "unit": "s"}])", "out/usage.json[0]: unexpected key"},
      {R"([{"metric": "a", "value": 1}, {"metric": 2, "value": 1}])", "out/usage.json[1].metric"},
      {"[{", "out/usage.json: "},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    dir.write(text);
    const auto read = runner::read_usage_file(dir.path);
    CHECK_FALSE(read.usage);
    REQUIRE(read.problem);
    CHECK_THAT(*read.problem, Catch::StartsWith(expected));
  }
  dir.write(std::string(runner::kMaxUsageBytes + 1, ' '));
  CHECK_THAT(*runner::read_usage_file(dir.path).problem, Catch::Contains("more than the limit"));
}

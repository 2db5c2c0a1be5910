// The shared test fixtures: see the header.
#include "fixtures.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <sstream>
#include <system_error>

namespace runner_test {

std::string unique_name(const std::string& prefix) {
  std::random_device rd;
  return prefix + std::to_string(rd() % 1000000000);
}

TempDir::TempDir(const std::string& prefix)
    : path(std::filesystem::temp_directory_path() / unique_name(prefix)) {
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::string postgres_url() {
  const char* url = std::getenv("RUNNER_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0')
    FAIL(
        "RUNNER_TEST_POSTGRES_URL is not set: run scripts/start-postgres.sh (scripts/test.sh "
        "does) and export the URL it prints");
  return url;
}

PgSchema::PgSchema(const std::string& prefix) : base(postgres_url()), schema(unique_name(prefix)) {
  REQUIRE(std::system(
              ("psql -q \"" + base + "\" -c 'CREATE SCHEMA " + schema + "' >/dev/null").c_str()) ==
          0);
}

PgSchema::~PgSchema() {
  (void)std::system(
      ("psql -q \"" + base + "\" -c 'DROP SCHEMA " + schema + " CASCADE' >/dev/null 2>&1").c_str());
}

std::string PgSchema::url() const {
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

}  // namespace runner_test

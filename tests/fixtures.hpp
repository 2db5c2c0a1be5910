// Fixtures the test files share, so that each is written once: a name no other test uses, a
// temporary folder of a test's own (a RUNNER_HOME, a store's folder), the JSON objects of JSON
// Lines text (what `runner jobs --json` and `logs --json` print), and a PostgreSQL schema of a
// test's own on the suite's server (RUNNER_TEST_POSTGRES_URL; the database is shared with other
// tests and other schema versions). Running the CLI itself is cli_process.hpp's.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace runner_test {

// `prefix` followed by a random number below 10^9.
std::string unique_name(const std::string& prefix);

// A new folder `prefix`<random> under the temporary folder, removed with everything in it when
// the fixture goes (errors ignored: a destructor does not throw).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "runner-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path path;
};

// The JSON value of each non-empty line of `text` (a line that is not JSON fails the test).
std::vector<nlohmann::json> json_lines(const std::string& text);

// RUNNER_TEST_POSTGRES_URL; the test fails, saying how to start the server, when it is not set.
std::string postgres_url();

// A schema `prefix`<random> made with psql on postgres_url()'s database and dropped (CASCADE)
// when the fixture goes.
class PgSchema {
 public:
  explicit PgSchema(const std::string& prefix);
  ~PgSchema();
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;

  // The server's URL as given, and that URL with the schema as the search path: a store URL.
  const std::string base;
  const std::string schema;
  std::string url() const;
};

}  // namespace runner_test

// End-to-end: retention and removed events (issue 14). `runner prune` deletes finished jobs
// older than a duration with their events, leaves newer jobs and the key-value table alone, and
// the SQLite file really shrinks; --keep-jobs deletes only the events and says so; `runner ship`
// with delete: true counts exactly what it deleted, and `runner logs` / `runner show` say plainly
// that the events were shipped away. SQLite and PostgreSQL (namespaced: the PostgreSQL database is
// shared with other tests).
#include "cli_process.hpp"
#include "fixtures.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::TempDir;
using runner_test::unique_name;
namespace fs = std::filesystem;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

std::string component(const std::string& script, const std::string& ns) {
  const json doc = {{"id", "test.retention"},
                    {"namespace", ns},
                    {"image", kImage},
                    {"command", {"sh", "-c", script}}};
  return temp_file(doc.dump());
}

std::string job_id_of(const runner_test::CliResult& r) {
  const auto pos = r.out.find("Job ");
  REQUIRE(pos != std::string::npos);
  return r.out.substr(pos + 4, 36);
}

std::uint64_t db_bytes(const fs::path& db) {
  std::error_code ec;
  std::uint64_t n = fs::file_size(db, ec);
  if (ec) n = 0;
  const auto wal = fs::file_size(db.string() + "-wal", ec);
  return ec ? n : n + wal;
}

void sqlite_exec(const fs::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> guard(raw, sqlite3_close);
  sqlite3_busy_timeout(raw, 10000);
  REQUIRE(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
}

std::size_t line_count(const std::string& text) {
  std::size_t n = 0;
  for (const char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

// ~6 MB of hex text: random bytes, so it stays big after compression.
constexpr const char* kBigOutput = "head -c 3000000 /dev/urandom | od -An -x";

}  // namespace

TEST_CASE("runner prune deletes old jobs and their events and the SQLite file shrinks",
          "[e2e][store][prune]") {
  TempDir dir;
  const fs::path db = dir.path / "runner.db";
  const std::string store = "sqlite:" + db.string();
  const std::string ns = unique_name("e2e.prune");
  const auto old_job = run_cli({"run", component(kBigOutput, ns), "--store", store});
  REQUIRE(old_job.exit_code == 0);
  const std::string old_id = job_id_of(old_job);
  sqlite_exec(db, "INSERT INTO kv (key, value, updated_at) VALUES ('state:x', 'kept', 0)");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const auto new_job = run_cli({"run", component("echo recent", ns), "--store", store});
  REQUIRE(new_job.exit_code == 0);
  const std::string new_id = job_id_of(new_job);
  const auto before = db_bytes(db);
  REQUIRE(before > 3'000'000);

  const auto dry = run_cli({"prune", "--older-than", "2s", "--dry-run", "--store", store});
  REQUIRE(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would prune") && Catch::Contains(old_id));
  CHECK_THAT(dry.out, !Catch::Contains(new_id));
  CHECK(run_cli({"show", old_id, "--store", store}).exit_code == 0);  // nothing deleted

  const auto pruned = run_cli({"prune", "--older-than", "2s", "--store", store, "--json"});
  REQUIRE(pruned.exit_code == 0);
  const json report = json::parse(pruned.out);
  CHECK(report["jobs"] == 1);
  CHECK(report["job_ids"] == json::array({old_id}));
  CHECK(report["events"].get<std::uint64_t>() > 10000);
  CHECK(run_cli({"show", old_id, "--store", store}).exit_code != 0);  // gone
  const auto logs = run_cli({"logs", new_id, "--store", store});
  CHECK(logs.exit_code == 0);
  CHECK_THAT(logs.out, Catch::Contains("recent"));
  const auto after = db_bytes(db);
  INFO("store " << before << " -> " << after << " bytes");
  CHECK(after * 4 < before);  // the file itself shrank, not only its free list grew
  // Other tables are not touched.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> guard(raw, sqlite3_close);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, "SELECT value FROM kv WHERE key = 'state:x'", -1, &stmt,
                             nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "kept");
  sqlite3_finalize(stmt);
}

TEST_CASE("runner prune refuses a bad duration and a store of none", "[e2e][store][prune]") {
  for (const char* bad : {"soon", "0d", "-3h", "12", "P", "1e400d"}) {
    const auto r = run_cli({"prune", "--older-than", bad, "--store", "sqlite:/nonexistent/x.db"});
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 64);
    CHECK_THAT(r.err, Catch::Contains("--older-than"));
  }
  CHECK(run_cli({"prune", "--older-than", "1d", "--store", "none"}).exit_code == 64);
}

void keep_jobs_case(const std::string& store) {
  const std::string ns = unique_name("e2e.keepjobs");
  const auto run =
      run_cli({"run", component("for i in 1 2 3 4 5; do echo l$i; done", ns), "--store", store});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string id = job_id_of(run);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const auto pruned =
      run_cli({"prune", "--older-than", "1s", "--keep-jobs", "--namespace", ns, "--store", store});
  REQUIRE(pruned.exit_code == 0);
  CHECK_THAT(pruned.out, Catch::Contains("pruned the events of 1 job(s)"));
  const auto show = run_cli({"show", id, "--store", store});
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.out, Catch::Contains("removed by runner prune"));
  const auto logs = run_cli({"logs", id, "--store", store});
  CHECK(logs.exit_code == 0);
  CHECK(logs.out.empty());
  CHECK_THAT(logs.err, Catch::Contains("removed by runner prune"));
  // A second prune finds nothing more to delete.
  const auto again = run_cli({"prune", "--older-than", "1s", "--keep-jobs", "--namespace", ns,
                              "--store", store, "--json"});
  REQUIRE(again.exit_code == 0);
  CHECK(json::parse(again.out)["events"] == 0);
}

TEST_CASE("runner prune --keep-jobs deletes only the events and says so (SQLite)",
          "[e2e][store][prune][sqlite]") {
  TempDir dir;
  keep_jobs_case("sqlite:" + (dir.path / "runner.db").string());
}

TEST_CASE("runner prune --keep-jobs deletes only the events and says so (PostgreSQL)",
          "[e2e][store][prune][postgres]") {
  // A schema of its own: the database's public schema is not the tests' to use (the server's
  // owner may differ, and other suites share the database).
  const runner_test::PgSchema schema("e2e_keepjobs_");
  keep_jobs_case(schema.url());
}

void ship_delete_case(const std::string& store, const fs::path& out_dir) {
  const std::string ns = unique_name("e2e.shipdel");
  std::vector<std::string> ids;
  std::size_t stored = 0;
  std::vector<std::size_t> per_job;
  for (const char* script : {"seq 1 25000", "seq 1 7; echo oops >&2"}) {
    const auto r = run_cli({"run", component(script, ns), "--store", store});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    ids.push_back(job_id_of(r));
    const auto logs = run_cli({"logs", ids.back(), "--json", "--store", store});
    REQUIRE(logs.exit_code == 0);
    per_job.push_back(line_count(logs.out));
    stored += per_job.back();
  }
  const std::string config =
      temp_file("logExporters:\n  - id: files\n    type: file\n    path: " + out_dir.string() +
                    "\nnamespace: " + ns +
                    "\nsettlePeriod: PT0S\nlogLevelFilter: DEBUG\n"
                    "delete: true\n",
                ".yaml");
  const auto ship = run_cli({"ship", "--config", config, "--store", store});
  REQUIRE(ship.exit_code == 0);
  INFO(ship.out);
  CHECK_THAT(ship.out, Catch::Contains("shipped " + std::to_string(stored) + " event(s)"));
  CHECK_THAT(ship.out, Catch::Contains("; " + std::to_string(stored) + " event(s) deleted"));
  for (const auto& id : ids) {
    const auto logs = run_cli({"logs", id, "--store", store});
    CHECK(logs.exit_code == 0);
    CHECK(logs.out.empty());
    CHECK_THAT(logs.err, Catch::Contains("removed by runner ship (delete: true)"));
    const auto show = run_cli({"show", id, "--store", store, "--json"});
    REQUIRE(show.exit_code == 0);
    const json doc = json::parse(show.out);
    REQUIRE(doc.contains("events_removed"));
    CHECK(doc["events_removed"][0]["by"] == "ship");
  }
  // Deleted over many batches, reported as one removal per remover with the exact total.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto doc = json::parse(run_cli({"show", ids[i], "--store", store, "--json"}).out);
    REQUIRE(doc["events_removed"].size() == 1);
    CHECK(doc["events_removed"][0]["events"] == per_job[i]);
    CHECK(doc["events_removed"][0]["first_sequence"] == 1);
  }
}

TEST_CASE("runner ship with delete: true counts exactly and the logs say so (SQLite)",
          "[e2e][store][shipper][sqlite]") {
  TempDir dir;
  ship_delete_case("sqlite:" + (dir.path / "runner.db").string(), dir.path / "shipped");
}

TEST_CASE("runner ship with delete: true counts exactly and the logs say so (PostgreSQL)",
          "[e2e][store][shipper][postgres]") {
  TempDir dir;
  const runner_test::PgSchema schema("e2e_shipdel_");
  ship_delete_case(schema.url(), dir.path / "shipped");
}

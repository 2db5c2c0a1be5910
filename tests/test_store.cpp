// Store: every behavioural case runs against both backends with the same code: a fresh SQLite
// file in a temporary folder ([store][sqlite]) and a fresh schema in the PostgreSQL database
// named by RUNNER_TEST_POSTGRES_URL ([store][postgres]; scripts/start-postgres.sh starts one and
// prints the URL, scripts/test.sh exports it). Without that variable the PostgreSQL cases fail.
#include "fixtures.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using runner::logging::EventTime;
using runner::logging::Level;
using runner::store::EventBlock;
using runner::store::EventCursor;
using runner::store::JobFilter;
using runner::store::JobRecord;
using runner::store::Store;
using runner::store::StoreError;

namespace {

namespace fs = std::filesystem;
using Rows = std::vector<std::vector<std::optional<std::string>>>;

constexpr std::int64_t kT0 = 1763726054000000;  // 2025-11-21T11:54:14Z in microseconds
EventTime at(std::int64_t offset_us) {
  return EventTime(std::chrono::microseconds(kT0 + offset_us));
}

std::string random_hex(std::size_t n) {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += kHex[gen() % 16];
  return s;
}

// A fresh, empty store for one test (open() gives a new connection to it every time), and raw
// SQL on it for what the interface does not show.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string url() const = 0;
  virtual bool is_postgres() const = 0;
  // Every cell as text; nullopt for NULL.
  virtual Rows sql(const std::string& statement) const = 0;
  std::unique_ptr<Store> open() const { return runner::store::open_store(url()); }
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() {
    std::string pattern = (fs::temp_directory_path() / "runner-store-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
  }
  ~SqliteBackend() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path folder() const { return dir_ / "home" / "store"; }  // created by the store
  std::string url() const override { return "sqlite:" + (folder() / "runner.db").string(); }
  bool is_postgres() const override { return false; }
  Rows sql(const std::string& statement) const override {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((folder() / "runner.db").c_str(), &db) == SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> guard(db, sqlite3_close);
    sqlite3_busy_timeout(db, 10000);
    Rows rows;
    char* error = nullptr;
    const int rc = sqlite3_exec(
        db, statement.c_str(),
        [](void* out, int n, char** values, char**) {
          auto& r = *static_cast<Rows*>(out);
          r.emplace_back();
          for (int i = 0; i < n; ++i)
            r.back().push_back(values[i] ? std::optional<std::string>(values[i]) : std::nullopt);
          return 0;
        },
        &rows, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    INFO(statement << ": " << message);
    REQUIRE(rc == SQLITE_OK);
    return rows;
  }

 private:
  fs::path dir_;
};

Rows pg_query(const std::string& url, const std::string& statement) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), PQfinish);
  INFO("PostgreSQL " << url << ": " << PQerrorMessage(conn.get()));
  REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), statement.c_str()), PQclear);
  const auto status = PQresultStatus(r.get());
  INFO(statement << ": " << PQresultErrorMessage(r.get()));
  REQUIRE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
  Rows rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    rows.emplace_back();
    for (int j = 0; j < PQnfields(r.get()); ++j)
      rows.back().push_back(PQgetisnull(r.get(), i, j)
                                ? std::nullopt
                                : std::optional<std::string>(PQgetvalue(r.get(), i, j)));
  }
  return rows;
}

// Each test gets its own schema, t_<random>, which its connections put first in search_path.
class PostgresBackend final : public Backend {
 public:
  PostgresBackend() : base_(runner_test::postgres_url()), schema_("t_" + random_hex(12)) {
    pg_query(base_, "CREATE SCHEMA " + schema_);
  }
  ~PostgresBackend() override {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(base_.c_str()), PQfinish);
    if (PQstatus(conn.get()) == CONNECTION_OK) {
      PQsetNoticeProcessor(
          conn.get(), [](void*, const char*) {}, nullptr);
      PQclear(PQexec(conn.get(), ("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").c_str()));
    }
  }
  std::string url() const override {
    return base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema_;
  }
  bool is_postgres() const override { return true; }
  Rows sql(const std::string& statement) const override { return pg_query(url(), statement); }

 private:
  std::string base_;
  std::string schema_;
};

// Runs `body` as two test cases, one per backend.
#define STORE_CASE(name, body)                               \
  TEST_CASE("sqlite store - " name, "[store][sqlite]") {     \
    SqliteBackend backend;                                   \
    body(backend);                                           \
  }                                                          \
  TEST_CASE("postgres store - " name, "[store][postgres]") { \
    PostgresBackend backend;                                 \
    body(backend);                                           \
  }

std::string job_id(int n, std::string_view prefix = "0190aaaa") {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-0000-7000-8000-%012d", std::string(prefix).c_str(), n);
  return buf;
}

JobRecord make_job(std::string id, std::string ns = "default", std::int64_t created_offset = 0,
                   std::string status = "processing", int priority = 0) {
  JobRecord j;
  j.id = std::move(id);
  j.component_id = "keboola.ex-test";
  j.namespace_name = std::move(ns);
  j.status = std::move(status);
  j.priority = priority;
  j.created_at = at(created_offset);
  return j;
}

// A block of `count` events of one level, `step_us` apart, written by hand in the format of
// event_block.hpp; the event at `fields_at` (sequence) carries fields.
EventBlock make_block(const std::string& job, std::uint64_t first, int count, std::int64_t t0_us,
                      std::int64_t step_us = 1, Level level = Level::info,
                      std::uint64_t fields_at = 0) {
  static constexpr const char* kNames[] = {"debug", "info",     "notice", "warning",
                                           "error", "critical", "alert",  "emergency"};
  EventBlock b;
  b.job_id = job;
  b.first_sequence = first;
  b.last_sequence = first + static_cast<std::uint64_t>(count) - 1;
  b.min_time = at(t0_us);
  b.max_time = at(t0_us + step_us * (count - 1));
  b.level_mask = 1u << static_cast<unsigned>(level);
  b.events = "[";
  for (int i = 0; i < count; ++i) {
    const std::uint64_t seq = first + static_cast<std::uint64_t>(i);
    if (i > 0) b.events += ',';
    // [sequence, time, message, level, source, fields] (see store/event_block.hpp)
    b.events += "[" + std::to_string(seq) + "," + std::to_string(kT0 + t0_us + step_us * i) +
                ",\"line " + std::to_string(seq) + " \\\"quoted\\\" \\u00e9\",\"" +
                kNames[static_cast<int>(level)] + "\",\"stdout\"";
    if (seq == fields_at) b.events += ",{\"rows\":5,\"table\":\"in.c-main\"}";
    b.events += "]";
  }
  b.events += "]";
  return b;
}

JobFilter filter(std::optional<std::string> ns, std::optional<std::string> status = std::nullopt,
                 std::size_t limit = 50) {
  JobFilter f;
  f.namespace_name = std::move(ns);
  f.status = std::move(status);
  f.limit = limit;
  return f;
}

std::vector<std::string> ids_of(const std::vector<JobRecord>& jobs) {
  std::vector<std::string> ids;
  for (const auto& j : jobs) ids.push_back(j.id);
  return ids;
}

std::vector<std::uint64_t> firsts_of(const std::vector<EventBlock>& blocks) {
  std::vector<std::uint64_t> firsts;
  for (const auto& b : blocks) firsts.push_back(b.first_sequence);
  return firsts;
}

std::string event_id(const std::string& job, std::uint64_t seq) {
  runner::store::StoredEvent e;
  e.job_id = job;
  e.sequence = seq;
  return e.id();
}

// --- schema -------------------------------------------------------------------------------------

void schema_case(Backend& backend) {
  auto store = backend.open();
  const Rows first =
      backend.sql("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  REQUIRE(first.size() == runner::store::schema::migrations().size());  // one row per migration
  CHECK(first[0][0] == "1");
  CHECK(first.back()[0] == std::to_string(runner::store::schema::latest_version()));
  for (const char* table : {"jobs", "event_blocks", "kv", "events", "event_removals",
                            "component_state", "component_state_history", "job_usage", "job_runs"})
    CHECK(backend.sql(std::string("SELECT count(*) FROM ") + table) == Rows{{"0"}});
  CHECK(store->describe().find(":runner@") == std::string::npos);  // never a password

  if (!backend.is_postgres()) {
    auto& sqlite = static_cast<SqliteBackend&>(backend);
    struct stat st {};
    REQUIRE(::stat(sqlite.folder().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::stat(sqlite.folder().parent_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(backend.sql("PRAGMA journal_mode") == Rows{{"wal"}});
  }

  // Opening it again changes nothing.
  auto again = backend.open();
  CHECK(backend.sql("SELECT version, applied_at FROM schema_migrations ORDER BY version") == first);
  again->put_value("k", "v");
  CHECK(store->get_value("k") == "v");

  // A store from a newer runner is refused, saying why.
  backend.sql("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)");
  REQUIRE_THROWS_AS(backend.open(), StoreError);
  REQUIRE_THROWS_WITH(backend.open(), Catch::Contains("schema version 999") &&
                                          Catch::Contains("newer") &&
                                          Catch::Contains("cannot open"));
}
STORE_CASE("schema is created once, reopened unchanged, a newer one is refused", schema_case)

// A store made by a runner that knew only version 1 is migrated to version 2 when opened: its
// jobs stay, with the new columns empty.
void upgrade_case(Backend& backend) {
  if (!backend.is_postgres()) fs::create_directories(static_cast<SqliteBackend&>(backend).folder());
  backend.sql(std::string(runner::store::schema::kCreateMigrationsTable));
  const auto v1 = runner::store::schema::migrations()[0];
  backend.sql(std::string(backend.is_postgres() ? v1.postgres_sql : v1.sqlite_sql));
  backend.sql("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)");
  backend.sql(
      "INSERT INTO jobs (id, status, created_at) VALUES ('0190aaaa-0000-7000-8000-000000000001', "
      "'success', 1)");
  auto store = backend.open();
  const auto job = store->find_job("0190aaaa-0000-7000-8000-000000000001");
  REQUIRE(job);
  CHECK(job->status == "success");
  CHECK(job->events_missing.empty());
  CHECK_FALSE(job->runner_pid);
  CHECK(backend.sql("SELECT max(version) FROM schema_migrations") ==
        Rows{{std::to_string(runner::store::schema::latest_version())}});
}
STORE_CASE("a version 1 store is migrated to the current version and keeps its jobs", upgrade_case)

// A store that has migrations 1 and 3 but not 2 (written by a build that numbered its migration
// ahead of another branch's): opening it applies 2 as well, and the v2 columns work.
void gap_case(Backend& backend) {
  if (!backend.is_postgres()) fs::create_directories(static_cast<SqliteBackend&>(backend).folder());
  backend.sql(std::string(runner::store::schema::kCreateMigrationsTable));
  for (const auto& m : runner::store::schema::migrations()) {
    if (m.version == 2) continue;
    backend.sql(std::string(backend.is_postgres() ? m.postgres_sql : m.sqlite_sql));
    backend.sql("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                std::to_string(m.version) + ", 0)");
  }
  auto store = backend.open();
  CHECK(backend.sql("SELECT version FROM schema_migrations ORDER BY version") ==
        Rows{{"1"}, {"2"}, {"3"}, {"4"}, {"5"}});
  JobRecord job = make_job(job_id(7), "a", 0, "processing", 1);
  job.runner_host = "host-a";
  job.runner_pid = 4242;
  store->insert_job(job);
  const auto found = store->find_job(job_id(7));
  REQUIRE(found);
  CHECK(found->runner_host == "host-a");
  CHECK(found->runner_pid == 4242);
}
STORE_CASE("a store missing a migration below its newest one gets it when opened", gap_case)

// Several processes opening a new store at once: one migrates, all succeed.
void concurrent_open_case(Backend& backend) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::string failure;
  std::mutex mutex;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      try {
        backend.open()->put_value("opened", "yes");
      } catch (const std::exception& e) {
        ++failures;
        std::lock_guard lock(mutex);
        failure = e.what();
      }
    });
  for (auto& t : threads) t.join();
  INFO(failure);
  CHECK(failures == 0);
  CHECK(backend.sql("SELECT count(*) FROM schema_migrations") ==
        Rows{{std::to_string(runner::store::schema::migrations().size())}});
}
STORE_CASE("stores opened at once migrate the schema once", concurrent_open_case)

// --- jobs ---------------------------------------------------------------------------------------

void jobs_case(Backend& backend) {
  auto store = backend.open();
  JobRecord full = make_job(job_id(1), "a", 0, "processing", 3);
  full.error_type = "";
  full.exit_code = 0;
  full.container_exit_code = 137;
  full.started_at = at(5);
  full.outputs = R"({"x":1})";
  full.metrics = R"([{"name":"rows"}])";
  full.spec = R"({"image":"busybox","parameters":{"#password":"RUNNER::ENC::abc"}})";
  full.spec_dir = "/home/me/jobs";
  full.worker_id = "w1";
  full.lease_until = at(60'000'000);
  full.cancel_requested = true;
  full.attempts = 2;
  full.container_id = "c0ffee";
  full.events_stored = 7;
  store->insert_job(full);
  store->insert_job(make_job(job_id(2), "a.b", 1'000'000, "success"));
  store->insert_job(make_job(job_id(3, "0190bbbb"), "ab", 2'000'000, "processing"));
  store->insert_job(make_job(job_id(4, "0190cccc"), "c", 3'000'000, "error"));
  CHECK_THROWS_AS(store->insert_job(make_job(job_id(1))), StoreError);

  const auto found = store->find_job(job_id(1));
  REQUIRE(found);
  CHECK(found->id == full.id);
  CHECK(found->component_id == full.component_id);
  CHECK(found->namespace_name == "a");
  CHECK(found->status == "processing");
  CHECK(found->priority == 3);
  CHECK(found->exit_code == 0);
  CHECK(found->container_exit_code == 137);
  CHECK(found->created_at == full.created_at);
  CHECK(found->started_at == full.started_at);
  CHECK_FALSE(found->finished_at);
  CHECK(found->outputs == full.outputs);
  CHECK(found->metrics == full.metrics);
  CHECK(found->spec == full.spec);
  CHECK(found->spec_dir == full.spec_dir);
  CHECK(found->worker_id == "w1");
  CHECK(found->lease_until == full.lease_until);
  CHECK(found->cancel_requested);
  CHECK(found->attempts == 2);
  CHECK(found->container_id == "c0ffee");
  CHECK(found->events_stored == 7);
  const auto plain = store->find_job(job_id(2));
  REQUIRE(plain);
  CHECK_FALSE(plain->exit_code);
  CHECK_FALSE(plain->container_exit_code);
  CHECK_FALSE(plain->started_at);
  CHECK_FALSE(plain->lease_until);
  CHECK_FALSE(plain->cancel_requested);
  CHECK(plain->outputs == "{}");
  CHECK(plain->metrics == "[]");

  // Prefixes: unique ones find the job; ambiguous and too short ones (exit 64) say so, naming
  // the jobs they match; a short one that matches nothing finds nothing.
  CHECK(store->find_job("0190bbbb")->id == job_id(3, "0190bbbb"));
  CHECK(store->find_job("0190cccc-0000")->id == job_id(4, "0190cccc"));
  CHECK(store->find_job(job_id(3, "0190bbbb").substr(0, 20))->id == job_id(3, "0190bbbb"));
  REQUIRE_THROWS_WITH(store->find_job("0190aaaa"),
                      Catch::Contains("ambiguous") && Catch::Contains(job_id(1)) &&
                          Catch::Contains(job_id(2)) && !Catch::Contains("and more"));
  try {
    (void)store->find_job("0190a");
    FAIL("a 5-character prefix was accepted");
  } catch (const runner::store::JobIdPrefixError& e) {
    CHECK(e.exit_code() == runner::kExitUsage);
    CHECK(e.candidates() == std::vector<std::string>{job_id(1), job_id(2)});
    CHECK_THAT(std::string(e.what()), Catch::Contains("too short") && Catch::Contains("8"));
  }
  REQUIRE_THROWS_WITH(store->find_job("0190bbb"),
                      Catch::Contains("too short") && Catch::Contains(job_id(3, "0190bbbb")));
  REQUIRE_THROWS_AS(store->find_job(""), runner::store::JobIdPrefixError);
  CHECK_FALSE(store->find_job("0190ddd"));
  CHECK_FALSE(store->find_job("0190dddd"));

  // Newest first, filters, limit.
  CHECK(ids_of(store->list_jobs({})) == std::vector<std::string>{job_id(4, "0190cccc"),
                                                                 job_id(3, "0190bbbb"), job_id(2),
                                                                 job_id(1)});
  CHECK(ids_of(store->list_jobs(filter("a"))) == std::vector<std::string>{job_id(2), job_id(1)});
  CHECK(ids_of(store->list_jobs(filter("a.b"))) == std::vector<std::string>{job_id(2)});
  CHECK(ids_of(store->list_jobs(filter(std::nullopt, "processing"))) ==
        std::vector<std::string>{job_id(3, "0190bbbb"), job_id(1)});
  CHECK(ids_of(store->list_jobs(filter("a", "success"))) == std::vector<std::string>{job_id(2)});
  CHECK(ids_of(store->list_jobs(filter(std::nullopt, std::nullopt, 2))) ==
        std::vector<std::string>{job_id(4, "0190cccc"), job_id(3, "0190bbbb")});
  CHECK(store->list_jobs(filter("nothing")).empty());

  // The life of a job.
  const std::string id = job_id(9);
  store->insert_job(make_job(id, "default", 9, "created"));
  store->mark_started(id, at(100));
  store->set_container(id, "abc123");
  auto started = store->find_job(id);
  CHECK(started->status == "processing");
  CHECK(started->started_at == at(100));
  CHECK(started->container_id == "abc123");
  JobRecord done = *started;
  done.status = "error";
  done.error_type = "user";
  done.message = "exit code 1";
  done.exit_code = 1;
  done.container_exit_code = 1;
  done.finished_at = at(200);
  done.outputs = R"({"a":"b"})";
  done.metrics = "[]";
  done.container_id = "";
  done.lease_until = at(999);
  store->finish_job(done);
  const auto finished = store->find_job(id);
  CHECK(finished->status == "error");
  CHECK(finished->error_type == "user");
  CHECK(finished->message == "exit code 1");
  CHECK(finished->exit_code == 1);
  CHECK(finished->container_exit_code == 1);
  CHECK(finished->finished_at == at(200));
  CHECK(finished->outputs == R"({"a":"b"})");
  CHECK(finished->container_id == "abc123");  // kept when the result names none
  CHECK_FALSE(finished->lease_until);
  CHECK(runner::store::is_final_status(finished->status));

  JobRecord ghost = make_job(job_id(99));
  CHECK_THROWS_WITH(store->finish_job(ghost), Catch::Contains("no such job"));
  CHECK_THROWS_AS(store->mark_started(job_id(99), at(0)), StoreError);
  CHECK_THROWS_AS(store->set_container(job_id(99), "x"), StoreError);
}
STORE_CASE("jobs are inserted, found by id or prefix, listed with filters and finished", jobs_case)

// A prefix many jobs share names the first five (in id order) and says there are more.
void prefix_candidates_case(Backend& backend) {
  auto store = backend.open();
  for (int n = 1; n <= 7; ++n) store->insert_job(make_job(job_id(n, "0190eeee")));
  try {
    (void)store->find_job("0190eeee-0000");
    FAIL("an ambiguous prefix was accepted");
  } catch (const runner::store::JobIdPrefixError& e) {
    CHECK(e.candidates().size() == 5);
    CHECK(e.candidates().front() == job_id(1, "0190eeee"));
    CHECK(e.candidates().back() == job_id(5, "0190eeee"));
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("ambiguous") && Catch::Contains(job_id(5, "0190eeee")) &&
                   !Catch::Contains(job_id(6, "0190eeee")) && Catch::Contains("and more"));
  }
  CHECK(store->find_job(job_id(7, "0190eeee"))->id == job_id(7, "0190eeee"));
}
STORE_CASE("an ambiguous job id prefix names up to five of the jobs it matches",
           prefix_candidates_case)

// --- events -------------------------------------------------------------------------------------

void job_blocks_case(Backend& backend) {
  auto store = backend.open();
  const std::string id = job_id(1);
  store->insert_job(make_job(id));
  store->insert_job(make_job(job_id(2)));
  std::vector<EventBlock> blocks;
  for (int i = 0; i < 5; ++i)
    blocks.push_back(make_block(id, 1 + 10 * static_cast<std::uint64_t>(i), 10, i * 1000));
  store->append_blocks({blocks[0], blocks[1]});
  store->append_blocks({blocks[2], blocks[3], blocks[4], make_block(job_id(2), 1, 3, 0)});
  store->append_blocks({});
  CHECK(store->find_job(id)->events_stored == 50);
  CHECK(store->find_job(job_id(2))->events_stored == 3);

  const auto firsts = store->job_blocks(id, 0, 2);
  REQUIRE(firsts.size() == 2);
  CHECK(firsts[0].row_id > 0);
  CHECK(firsts[1].row_id > firsts[0].row_id);
  CHECK(firsts[0].job_id == id);
  CHECK(firsts[0].first_sequence == 1);
  CHECK(firsts[0].last_sequence == 10);
  CHECK(firsts[0].min_time == blocks[0].min_time);
  CHECK(firsts[0].max_time == blocks[0].max_time);
  CHECK(firsts[0].level_mask == blocks[0].level_mask);
  CHECK(firsts[0].events == blocks[0].events);
  CHECK(firsts_of(store->job_blocks(id, 20, 100)) == std::vector<std::uint64_t>{21, 31, 41});
  CHECK(firsts_of(store->job_blocks(id, 25, 100)) == std::vector<std::uint64_t>{21, 31, 41});
  CHECK(firsts_of(store->job_blocks(id, 10, 2)) == std::vector<std::uint64_t>{11, 21});
  CHECK(store->job_blocks(id, 50, 100).empty());
  CHECK(store->job_blocks("no such job", 0, 100).empty());
}
STORE_CASE("event blocks are appended and read back page by page", job_blocks_case)

void blocks_in_time_case(Backend& backend) {
  auto store = backend.open();
  const std::string a = job_id(1), ab_child = job_id(2), ab = job_id(3), c = job_id(4);
  store->insert_job(make_job(a, "a"));
  store->insert_job(make_job(ab_child, "a.b"));
  store->insert_job(make_job(ab, "ab"));
  store->insert_job(make_job(c, "c"));
  // min_time: a 0, a.b 100, ab 200, c 300, a 400 (warning), a.b 400 (error), c 500 (debug).
  store->append_blocks({make_block(a, 1, 10, 0, 10)});                          // 0..90
  store->append_blocks({make_block(ab_child, 1, 10, 100, 10)});                 // 100..190
  store->append_blocks({make_block(ab, 1, 10, 200, 10)});                       // 200..290
  store->append_blocks({make_block(c, 1, 10, 300, 10)});                        // 300..390
  store->append_blocks({make_block(a, 11, 10, 400, 10, Level::warning)});       // 400..490
  store->append_blocks({make_block(ab_child, 11, 10, 400, 10, Level::error)});  // 400..490
  store->append_blocks({make_block(c, 11, 10, 500, 10, Level::debug)});         // 500..590

  using Key = std::pair<std::string, std::uint64_t>;
  auto keys = [](const std::vector<EventBlock>& blocks) {
    std::vector<Key> k;
    for (const auto& b : blocks) k.emplace_back(b.job_id, b.first_sequence);
    return k;
  };
  const EventCursor start{at(-1'000'000), ""};
  const EventTime end = at(1'000'000);
  const auto all = store->blocks_in_time(start, end, std::nullopt, Level::debug, {}, 100);
  CHECK(keys(all) ==
        std::vector<Key>{{a, 1}, {ab_child, 1}, {ab, 1}, {c, 1}, {a, 11}, {ab_child, 11}, {c, 11}});
  CHECK(all[4].row_id < all[5].row_id);

  // Paging by (min_time, row_id), including inside a tie on min_time.
  std::vector<Key> paged;
  Store::BlockPage page;
  for (;;) {
    const auto chunk = store->blocks_in_time(start, end, std::nullopt, Level::debug, page, 2);
    if (chunk.empty()) break;
    CHECK(chunk.size() <= 2);
    for (const auto& k : keys(chunk)) paged.push_back(k);
    page.after_min_time = chunk.back().min_time;
    page.after_row_id = chunk.back().row_id;
  }
  CHECK(paged == keys(all));
  page.after_min_time = all[4].min_time;
  page.after_row_id = all[4].row_id;
  CHECK(keys(store->blocks_in_time(start, end, std::nullopt, Level::debug, page, 100)) ==
        std::vector<Key>{{ab_child, 11}, {c, 11}});

  // Namespace and its children, not its look-alikes.
  CHECK(keys(store->blocks_in_time(start, end, std::string("a"), Level::debug, {}, 100)) ==
        std::vector<Key>{{a, 1}, {ab_child, 1}, {a, 11}, {ab_child, 11}});
  CHECK(keys(store->blocks_in_time(start, end, std::string("a.b"), Level::debug, {}, 100)) ==
        std::vector<Key>{{ab_child, 1}, {ab_child, 11}});
  CHECK(keys(store->blocks_in_time(start, end, std::string("ab"), Level::debug, {}, 100)) ==
        std::vector<Key>{{ab, 1}});
  CHECK(store->blocks_in_time(start, end, std::string("a."), Level::debug, {}, 100).empty());

  // Levels: a block holding any level >= min_level.
  CHECK(keys(store->blocks_in_time(start, end, std::nullopt, Level::info, {}, 100)) ==
        std::vector<Key>{{a, 1}, {ab_child, 1}, {ab, 1}, {c, 1}, {a, 11}, {ab_child, 11}});
  CHECK(keys(store->blocks_in_time(start, end, std::nullopt, Level::warning, {}, 100)) ==
        std::vector<Key>{{a, 11}, {ab_child, 11}});
  CHECK(keys(store->blocks_in_time(start, end, std::nullopt, Level::error, {}, 100)) ==
        std::vector<Key>{{ab_child, 11}});
  CHECK(store->blocks_in_time(start, end, std::nullopt, Level::critical, {}, 100).empty());

  // The time window: max_time >= cursor.time and min_time < until.
  CHECK(keys(store->blocks_in_time({at(290), ""}, at(400), std::nullopt, Level::debug, {}, 100)) ==
        std::vector<Key>{{ab, 1}, {c, 1}});
  CHECK(keys(store->blocks_in_time({at(291), ""}, at(401), std::nullopt, Level::debug, {}, 100)) ==
        std::vector<Key>{{c, 1}, {a, 11}, {ab_child, 11}});
  CHECK(store->blocks_in_time(start, at(0), std::nullopt, Level::debug, {}, 100).empty());
  CHECK(store->blocks_in_time(start, end, std::nullopt, Level::debug, {}, 0).empty());
}
STORE_CASE("blocks in time come in order, page, and filter by namespace and level",
           blocks_in_time_case)

void delete_blocks_case(Backend& backend) {
  auto store = backend.open();
  const std::string a = job_id(1), b = job_id(2), c = job_id(3);
  store->insert_job(make_job(a, "a"));
  store->insert_job(make_job(b, "a.x"));
  store->insert_job(make_job(c, "c"));
  store->append_blocks({make_block(a, 1, 10, 0, 10)});    // 0..90
  store->append_blocks({make_block(b, 1, 5, 50, 10)});    // 50..90
  store->append_blocks({make_block(c, 1, 4, 0, 10)});     // 0..30
  store->append_blocks({make_block(a, 11, 10, 90, 10)});  // 90..180
  store->append_blocks({make_block(c, 5, 10, 100, 10)});  // 100..190

  // Only namespace a: blocks ending before 90, or at 90 with every id <= the cursor's.
  CHECK(store->delete_blocks_through({at(90), event_id(a, 10)}, std::string("a")) == 10);
  auto left = store->blocks_in_time({at(-1), ""}, at(1000), std::nullopt, Level::debug, {}, 100);
  CHECK(left.size() == 4);  // b's block ends at 90 with a larger id than a-10
  CHECK(store->delete_blocks_through({at(90), event_id(b, 5)}, std::string("a")) == 5);
  CHECK(store->job_blocks(b, 0, 100).empty());
  // An empty id: nothing at cursor.time was read.
  CHECK(store->delete_blocks_through({at(30), ""}, std::nullopt) == 0);
  CHECK(store->delete_blocks_through({at(31), ""}, std::nullopt) == 4);
  CHECK(store->delete_blocks_through({at(31), ""}, std::nullopt) == 0);
  left = store->blocks_in_time({at(-1), ""}, at(1000), std::nullopt, Level::debug, {}, 100);
  REQUIRE(left.size() == 2);
  CHECK(left[0].job_id == a);
  CHECK(left[1].job_id == c);
  CHECK(store->delete_blocks_through({at(1000), ""}, std::nullopt) == 20);
  CHECK(backend.sql("SELECT count(*) FROM event_blocks") == Rows{{"0"}});
}
STORE_CASE("blocks read through a cursor are deleted, by namespace", delete_blocks_case)

void kv_case(Backend& backend) {
  auto store = backend.open();
  CHECK_FALSE(store->get_value("shipper.elastic.offset"));
  store->put_value("shipper.elastic.offset", R"({"time":1,"id":"x"})");
  CHECK(store->get_value("shipper.elastic.offset") == R"({"time":1,"id":"x"})");
  store->put_value("shipper.elastic.offset", "second");
  store->put_value("other", "");
  CHECK(store->get_value("shipper.elastic.offset") == "second");
  CHECK(store->get_value("other") == "");
  CHECK(backend.open()->get_value("shipper.elastic.offset") == "second");
  CHECK(backend.sql("SELECT count(*) FROM kv") == Rows{{"2"}});
}
STORE_CASE("key-value pairs are stored, read back and overwritten", kv_case)

void events_view_case(Backend& backend) {
  auto store = backend.open();
  const std::string a = job_id(1), b = job_id(2);
  store->insert_job(make_job(a));
  store->insert_job(make_job(b));
  store->append_blocks(
      {make_block(a, 1, 3, 0, 10, Level::info, 2), make_block(a, 4, 2, 100, 10, Level::error)});
  store->append_blocks({make_block(b, 7, 1, 5)});
  CHECK(backend.sql("SELECT count(*) FROM events") == Rows{{"6"}});
  const Rows rows = backend.sql(
      "SELECT id, job_id, sequence, time, level, source, message, fields FROM events "
      "WHERE job_id = '" +
      a + "' ORDER BY id");
  REQUIRE(rows.size() == 5);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::uint64_t seq = i + 1;
    CHECK(rows[i][0] == event_id(a, seq));
    CHECK(rows[i][1] == a);
    CHECK(rows[i][2] == std::to_string(seq));
    CHECK(rows[i][4] == (seq <= 3 ? "info" : "error"));
    CHECK(rows[i][5] == "stdout");
    CHECK(rows[i][6] == "line " + std::to_string(seq) + " \"quoted\" \xc3\xa9");
    if (seq == 2) {
      REQUIRE(rows[i][7]);
      CHECK(nlohmann::json::parse(*rows[i][7]) ==
            nlohmann::json{{"rows", 5}, {"table", "in.c-main"}});
    } else {
      CHECK_FALSE(rows[i][7]);
    }
  }
  CHECK(rows[0][3] == std::to_string(kT0));
  CHECK(rows[4][3] == std::to_string(kT0 + 110));
  CHECK(event_id(a, 1) == a + "-000000000001");
  CHECK(backend.sql("SELECT id FROM events WHERE job_id = '" + b + "'") ==
        Rows{{b + "-000000000007"}});
  // Ids order like (job, sequence) in SQL too.
  CHECK(backend.sql("SELECT count(*) FROM events WHERE id > '" + event_id(a, 3) + "'") ==
        Rows{{"3"}});
}
STORE_CASE("the events view has one row per event with its id", events_view_case)

// --- queue --------------------------------------------------------------------------------------

void claim_order_case(Backend& backend) {
  auto store = backend.open();
  store->enqueue(make_job(job_id(1), "default", 0, "created", 0));
  store->enqueue(make_job(job_id(2), "default", 1, "created", 5));
  store->enqueue(make_job(job_id(3), "default", 2, "created", 5));
  store->enqueue(make_job(job_id(4), "default", -1, "created", 0));
  store->insert_job(make_job(job_id(5), "default", -5, "created", 9));  // not queued
  CHECK(store->find_job(job_id(1))->status == "waiting");

  std::vector<std::string> order;
  const auto before =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  while (auto job = store->claim_job("worker-1", 60s)) {
    CHECK(job->status == "processing");
    CHECK(job->worker_id == "worker-1");
    CHECK(job->attempts == 1);
    REQUIRE(job->lease_until);
    CHECK(*job->lease_until > before + 50s);
    CHECK(*job->lease_until < before + 120s);
    order.push_back(job->id);
  }
  CHECK(order == std::vector<std::string>{job_id(2), job_id(3), job_id(4), job_id(1)});
  CHECK(store->find_job(job_id(2))->status == "processing");
  CHECK(store->find_job(job_id(5))->status == "created");
}
STORE_CASE("queued jobs are claimed by priority, then oldest first", claim_order_case)

void concurrent_claim_case(Backend& backend) {
  constexpr int kJobs = 200;
  {
    auto store = backend.open();
    for (int i = 0; i < kJobs; ++i) store->enqueue(make_job(job_id(i), "default", i, "created"));
  }
  std::vector<std::vector<std::string>> claimed(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w)
    threads.emplace_back([&, w] {
      try {
        auto store = backend.open();
        const std::string worker = "worker-" + std::to_string(w);
        while (auto job = store->claim_job(worker, 60s)) {
          if (job->worker_id != worker) errors[w] = "claimed for " + job->worker_id;
          claimed[w].push_back(job->id);
        }
      } catch (const std::exception& e) {
        errors[w] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  CHECK(errors[0].empty());
  CHECK(errors[1].empty());
  INFO("worker 0 claimed " << claimed[0].size() << ", worker 1 " << claimed[1].size());
  std::multiset<std::string> all(claimed[0].begin(), claimed[0].end());
  all.insert(claimed[1].begin(), claimed[1].end());
  CHECK(all.size() == kJobs);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == kJobs);
  CHECK(backend.sql("SELECT count(*) FROM jobs WHERE status = 'processing' AND attempts = 1") ==
        Rows{{std::to_string(kJobs)}});
}
STORE_CASE("two workers claiming 200 jobs at once claim each exactly once", concurrent_claim_case)

void expired_lease_case(Backend& backend) {
  auto store = backend.open();
  auto other = backend.open();
  store->enqueue(make_job(job_id(1)));
  const auto first = store->claim_job("worker-1", 1ms);
  REQUIRE(first);
  CHECK(first->attempts == 1);
  store->set_container(first->id, "container-1");
  std::this_thread::sleep_for(50ms);
  const auto again = other->claim_job("worker-2", 60s);
  REQUIRE(again);
  CHECK(again->id == first->id);
  CHECK(again->status == "processing");
  CHECK(again->worker_id == "worker-2");
  CHECK(again->attempts == 2);
  CHECK(again->container_id == "container-1");  // the new worker looks for it
  CHECK_FALSE(other->claim_job("worker-3", 60s));
  const auto beat = store->heartbeat("worker-1", {first->id}, 60s);
  CHECK(beat.lost == std::vector<std::string>{first->id});
  CHECK(beat.cancel_requested.empty());
  CHECK(store->find_job(first->id)->worker_id == "worker-2");

  // A terminating job whose worker died stays terminating for the next one.
  store->enqueue(make_job(job_id(2)));
  REQUIRE(store->claim_job("worker-1", 1ms)->id == job_id(2));
  CHECK(store->request_cancel(job_id(2))->status == "terminating");
  std::this_thread::sleep_for(50ms);
  const auto stopping = other->claim_job("worker-2", 60s);
  REQUIRE(stopping);
  CHECK(stopping->id == job_id(2));
  CHECK(stopping->status == "terminating");
  CHECK(stopping->cancel_requested);
  CHECK(stopping->attempts == 2);
  // Jobs without a lease (runner run) are never taken over.
  store->insert_job(make_job(job_id(3)));
  CHECK_FALSE(other->claim_job("worker-2", 60s));
}
STORE_CASE("a job whose lease expired is claimed again with one more attempt", expired_lease_case)

void exhausted_attempts_case(Backend& backend) {
  auto store = backend.open();
  store->enqueue(make_job(job_id(1)));
  store->enqueue(make_job(job_id(2)));
  REQUIRE(store->claim_job("worker-0", 1ms)->id == job_id(1));
  REQUIRE(store->claim_job("worker-0", 60s)->id == job_id(2));  // its worker is alive
  for (int attempt = 2; attempt <= runner::store::kMaxAttempts; ++attempt) {
    std::this_thread::sleep_for(20ms);
    CHECK(store->end_exhausted_jobs().empty());
    const auto again = store->claim_job("worker-" + std::to_string(attempt), 1ms);
    REQUIRE(again);
    CHECK(again->id == job_id(1));
    CHECK(again->attempts == attempt);
  }
  std::this_thread::sleep_for(20ms);
  // The last attempt's lease expired: no one claims the job again; housekeeping ends it.
  CHECK_FALSE(store->claim_job("worker-9", 60s));
  CHECK(store->find_job(job_id(1))->status == "processing");
  const auto ended = store->end_exhausted_jobs();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].id == job_id(1));
  CHECK(ended[0].status == "error");
  CHECK(ended[0].error_type == "internal");
  CHECK(ended[0].exit_code == 70);
  CHECK(ended[0].finished_at);
  CHECK_FALSE(ended[0].lease_until);
  CHECK_THAT(ended[0].message, Catch::Contains("after 3 attempts"));
  CHECK(store->find_job(job_id(1))->status == "error");
  CHECK(store->end_exhausted_jobs().empty());
  CHECK(store->find_job(job_id(2))->status == "processing");
}
STORE_CASE("a job whose workers died 3 times is not claimed again and ends as error",
           exhausted_attempts_case)

void heartbeat_case(Backend& backend) {
  auto store = backend.open();
  store->enqueue(make_job(job_id(1)));
  store->enqueue(make_job(job_id(2)));
  const auto j1 = store->claim_job("w", 2s);
  const auto j2 = store->claim_job("w", 2s);
  REQUIRE(j1);
  REQUIRE(j2);
  auto beat = store->heartbeat("w", {j1->id, j2->id}, 120s);
  CHECK(beat.lost.empty());
  CHECK(beat.cancel_requested.empty());
  const auto extended = store->find_job(j1->id)->lease_until;
  REQUIRE(extended);
  CHECK(*extended > *j1->lease_until + 100s);
  CHECK(store->find_job(j2->id)->lease_until > *j2->lease_until + 100s);

  store->request_cancel(j2->id);
  beat = store->heartbeat("w", {j1->id, j2->id, job_id(77)}, 120s);
  CHECK(beat.cancel_requested == std::vector<std::string>{j2->id});
  CHECK(beat.lost == std::vector<std::string>{job_id(77)});

  JobRecord done = *j1;
  done.status = "success";
  store->finish_job(done);
  beat = store->heartbeat("w", {j1->id, j2->id}, 120s);
  CHECK(beat.lost == std::vector<std::string>{j1->id});
  CHECK(beat.cancel_requested == std::vector<std::string>{j2->id});
  CHECK(store->heartbeat("someone-else", {j2->id}, 120s).lost == std::vector<std::string>{j2->id});
  CHECK(store->heartbeat("w", {}, 120s).lost.empty());
}
STORE_CASE("heartbeats extend leases and report cancelled and lost jobs", heartbeat_case)

void cancel_case(Backend& backend) {
  auto store = backend.open();
  store->enqueue(make_job(job_id(1)));
  const auto waiting = store->request_cancel(job_id(1));
  REQUIRE(waiting);
  CHECK(waiting->status == "cancelled");
  CHECK(waiting->finished_at);
  CHECK_FALSE(store->claim_job("w", 60s));

  const std::string running = job_id(2, "0190bbbb");
  store->enqueue(make_job(running));
  REQUIRE(store->claim_job("w", 60s));
  const auto processing = store->request_cancel("0190bbbb");  // a prefix
  REQUIRE(processing);
  CHECK(processing->id == running);
  CHECK(processing->status == "terminating");
  CHECK(processing->cancel_requested);
  CHECK_FALSE(processing->finished_at);
  CHECK(store->request_cancel(running)->status == "terminating");  // twice: the same
  // The worker starting it meanwhile does not undo the request.
  store->mark_started(running, at(1));
  CHECK(store->find_job(running)->status == "terminating");

  store->insert_job(make_job(job_id(3), "default", 0, "success"));
  const auto final_job = store->request_cancel(job_id(3));
  REQUIRE(final_job);
  CHECK(final_job->status == "success");
  CHECK_FALSE(final_job->cancel_requested);

  store->insert_job(make_job(job_id(4), "default", 0, "created"));
  CHECK(store->request_cancel(job_id(4))->status == "cancelled");

  CHECK_FALSE(store->request_cancel(job_id(99)));
}
STORE_CASE("a cancel request cancels a waiting job and terminates a running one", cancel_case)

void release_case(Backend& backend) {
  auto store = backend.open();
  store->enqueue(make_job(job_id(1)));
  REQUIRE(store->claim_job("w1", 60s));
  store->release_job(job_id(1), "w2");  // not w2's: nothing happens
  CHECK(store->find_job(job_id(1))->worker_id == "w1");
  store->release_job(job_id(1), "w1");
  const auto released = store->find_job(job_id(1));
  CHECK(released->status == "waiting");
  CHECK(released->worker_id.empty());
  CHECK_FALSE(released->lease_until);
  const auto again = store->claim_job("w2", 60s);
  REQUIRE(again);
  CHECK(again->id == job_id(1));
  CHECK(again->worker_id == "w2");

  // A job whose cancel was requested is not queued again.
  store->request_cancel(job_id(1));
  store->release_job(job_id(1), "w2");
  CHECK(store->find_job(job_id(1))->status == "cancelled");
  CHECK_FALSE(store->claim_job("w3", 60s));
}
STORE_CASE("a released job goes back to the queue", release_case)

struct EventFd {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ~EventFd() { ::close(fd); }
  void signal() const {
    const std::uint64_t one = 1;
    REQUIRE(::write(fd, &one, sizeof one) == sizeof one);
  }
};

void wait_case(Backend& backend) {
  // No tight stopwatch: each wait that must end early has a 60 s timeout and is judged against
  // half of it, so "woken" and "timed out" cannot be confused however loaded the machine is.
  using clock = std::chrono::steady_clock;
  constexpr auto kLong = 60s;
  constexpr auto kWoken = 30s;
  auto waiter = backend.open();
  auto producer = backend.open();

  // A readable wake_fd returns false at once and stays readable (the caller owns it).
  {
    EventFd wake;
    wake.signal();
    const auto t0 = clock::now();
    CHECK_FALSE(waiter->wait_for_jobs(kLong, wake.fd));
    CHECK_FALSE(waiter->wait_for_jobs(kLong, wake.fd));
    CHECK(clock::now() - t0 < kWoken);
  }
  // wake_fd becoming readable during the wait ends it early. (On PostgreSQL another test's
  // enqueue may wake the waiter first: wait again then.)
  {
    EventFd wake;
    std::thread poke([&] {
      std::this_thread::sleep_for(300ms);
      wake.signal();
    });
    const auto t0 = clock::now();
    bool result = true;
    while (result && clock::now() - t0 < kLong) result = waiter->wait_for_jobs(kLong, wake.fd);
    poke.join();
    CHECK_FALSE(result);
    CHECK(clock::now() - t0 < kWoken);
  }
  if (backend.is_postgres()) {
    // An enqueue on another connection wakes the waiter well before its timeout.
    std::thread enqueue([&] {
      std::this_thread::sleep_for(300ms);
      producer->enqueue(make_job(job_id(1)));
    });
    const auto t0 = clock::now();
    const bool woken = waiter->wait_for_jobs(kLong, -1);
    enqueue.join();
    CHECK(woken);
    CHECK(clock::now() - t0 < kWoken);
    CHECK(waiter->claim_job("w", 60s));
  } else {
    // SQLite polls: the wait ends after the poll interval (a wait never ends before its time),
    // long before the timeout.
    const auto t0 = clock::now();
    CHECK(waiter->wait_for_jobs(kLong, -1));
    const auto took = clock::now() - t0;
    CHECK(took >= 150ms);
    CHECK(took < kWoken);
    producer->enqueue(make_job(job_id(1)));
    CHECK(waiter->claim_job("w", 60s));
  }
  const auto t0 = clock::now();
  CHECK(waiter->wait_for_jobs(0ms, -1));
  CHECK(clock::now() - t0 < kWoken);
}
STORE_CASE("waiting for jobs wakes on an enqueue or the wake descriptor", wait_case)

}  // namespace

// --- without a backend --------------------------------------------------------------------------

TEST_CASE("store URLs that cannot be opened say why without the password", "[store]") {
  REQUIRE_THROWS_WITH(runner::store::open_store("postgresql://runner:s3cretpw@127.0.0.1:1/none"),
                      Catch::Contains("PostgreSQL: connection to") && Catch::Contains("failed") &&
                          !Catch::Contains("s3cretpw"));
  REQUIRE_THROWS_WITH(
      runner::store::open_store("postgres://127.0.0.1:1/none?password=s3cretpw&user=x"),
      Catch::Contains("PostgreSQL: connection to") && !Catch::Contains("s3cretpw"));
  REQUIRE_THROWS_WITH(runner::store::open_store("sqlite:/proc/no/such/runner.db"),
                      Catch::StartsWith("cannot open sqlite:/proc/no/such/runner.db: "));
  REQUIRE_THROWS_WITH(runner::store::open_store("mysql://u:s3cretpw@h/db"),
                      Catch::Contains("unknown store URL") && !Catch::Contains("s3cretpw"));
  REQUIRE_THROWS_AS(runner::store::open_store("sqlite:"), StoreError);
  REQUIRE_THROWS_AS(runner::store::open_store("none"), StoreError);

  // A file that is not a database.
  const auto dir = fs::temp_directory_path() / ("runner-store-" + random_hex(8));
  fs::create_directories(dir);
  { std::ofstream(dir / "junk.db") << std::string(4096, 'x'); }
  REQUIRE_THROWS_WITH(runner::store::open_store("sqlite:" + (dir / "junk.db").string()),
                      Catch::StartsWith("cannot open sqlite:"));
  fs::remove_all(dir);
}

TEST_CASE("event ids, final statuses and the default store URL", "[store]") {
  runner::store::StoredEvent e;
  e.job_id = "0190aaaa-0000-7000-8000-000000000001";
  e.sequence = 42;
  CHECK(e.id() == "0190aaaa-0000-7000-8000-000000000001-000000000042");
  e.sequence = 1234567890123;
  CHECK(e.id() == "0190aaaa-0000-7000-8000-000000000001-1234567890123");
  for (const char* s : {"success", "warning", "error", "cancelled", "terminated"})
    CHECK(runner::store::is_final_status(s));
  for (const char* s : {"created", "waiting", "processing", "terminating", ""})
    CHECK_FALSE(runner::store::is_final_status(s));

  const char* saved_store = std::getenv("RUNNER_STORE");
  const char* saved_home = std::getenv("RUNNER_HOME");
  const std::optional<std::string> store_value =
      saved_store ? std::optional<std::string>(saved_store) : std::nullopt;
  const std::optional<std::string> home_value =
      saved_home ? std::optional<std::string>(saved_home) : std::nullopt;
  ::unsetenv("RUNNER_STORE");
  ::setenv("RUNNER_HOME", "/srv/runner-home", 1);
  CHECK(runner::store::default_store_url() == "sqlite:/srv/runner-home/runner.db");
  ::setenv("RUNNER_STORE", "postgresql://db/runner", 1);
  CHECK(runner::store::default_store_url() == "postgresql://db/runner");
  if (store_value)
    ::setenv("RUNNER_STORE", store_value->c_str(), 1);
  else
    ::unsetenv("RUNNER_STORE");
  if (home_value)
    ::setenv("RUNNER_HOME", home_value->c_str(), 1);
  else
    ::unsetenv("RUNNER_HOME");
}

// --- component state and usage (issue 13) ------------------------------------------------------

void state_case(Backend& backend) {
  auto store = backend.open();
  const runner::store::StateKey key{"my.comp", "cfg", ""};
  const runner::store::StateKey row{"my.comp", "cfg", "row-1"};
  CHECK_FALSE(store->read_state(key));
  runner::store::StateWrite w;
  w.key = key;
  w.state = R"({"n":1})";
  w.job_id = job_id(1);
  w.time = runner::store::schema::from_micros(1000);
  store->write_state(w);
  // Another connection, a later writer: it wins; both writes are in the history.
  auto other = backend.open();
  w.state = R"({"n":2})";
  w.job_id = job_id(2);
  w.time = runner::store::schema::from_micros(2000);
  other->write_state(w);
  auto current = store->read_state(key);
  REQUIRE(current);
  CHECK(current->state == R"({"n":2})");
  CHECK(current->job_id == job_id(2));
  CHECK(current->time == runner::store::schema::from_micros(2000));
  CHECK_FALSE(store->read_state(row));  // a row has its own state
  auto history = store->state_history(key, 10);
  REQUIRE(history.size() == 2);
  CHECK(history[0].job_id == job_id(2));  // newest first
  CHECK(history[1].state == R"({"n":1})");
  CHECK(store->state_history(key, 1).size() == 1);
  // A removal: no current state, one more history entry, and the job's writes say so.
  runner::store::StateWrite removal;
  removal.key = key;
  removal.removed = true;
  removal.job_id = job_id(3);
  removal.time = runner::store::schema::from_micros(3000);
  store->write_state(removal);
  CHECK_FALSE(store->read_state(key));
  CHECK(store->state_history(key, 10).size() == 3);
  const auto writes = store->job_state_writes(job_id(3));
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].removed);
  CHECK(store->job_state_writes(job_id(9)).empty());
  // Usage.
  CHECK_FALSE(store->job_usage(job_id(1)));
  store->put_usage(job_id(1), R"([{"metric":"rows","value":3}])");
  CHECK(store->job_usage(job_id(1)) ==
        std::optional<std::string>(R"([{"metric":"rows","value":3}])"));
  // A chain's runs: one text per job, the later write replacing the first.
  CHECK_FALSE(store->job_runs(job_id(1)));
  store->put_job_runs(job_id(1), R"({"rows":[],"stages":[{"stage":"main"}]})");
  store->put_job_runs(job_id(1), R"({"rows":[],"stages":[{"stage":"after-1"}]})");
  CHECK(store->job_runs(job_id(1)) ==
        std::optional<std::string>(R"({"rows":[],"stages":[{"stage":"after-1"}]})"));
  CHECK_FALSE(store->job_runs(job_id(2)));
}
STORE_CASE("component state: the later writer wins, the history keeps every write, and usage",
           state_case)

TEST_CASE("one job column list and status names from the enum for both backends", "[store]") {
  namespace schema = runner::store::schema;
  CHECK(schema::kJobColumnCount == static_cast<int>(schema::kJobColumnNames.size()));
  CHECK(schema::job_columns().rfind("id, component_id, namespace_name, status, ", 0) == 0);
  CHECK(std::count(schema::job_columns().begin(), schema::job_columns().end(), ',') ==
        schema::kJobColumnCount - 1);
  CHECK(schema::with_statuses("status IN ({processing}, {terminating}) AND x = {0} {nope} {") ==
        "status IN ('processing', 'terminating') AND x = {0} {nope} {");
  CHECK(runner::store::kStatusTerminated == "terminated");
  CHECK(runner::store::is_final_status("cancelled"));
  CHECK_FALSE(runner::store::is_final_status("terminating"));
  CHECK_FALSE(runner::store::is_final_status("bogus"));
}

TEST_CASE("sqlite store - the folders of a new store path are made, 0700, however deep",
          "[store][sqlite]") {
  namespace fs = std::filesystem;
  const auto base = fs::temp_directory_path() / ("runner-folders-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::path deep = base;
  for (int i = 0; i < 200; ++i) deep /= "d";  // 200 levels (SQLite takes paths of 512 bytes)
  runner::store::open_store("sqlite:" + (deep / "runner.db").string());
  CHECK(fs::exists(deep / "runner.db"));
  CHECK((fs::status(base / "d").permissions() & fs::perms::all) == fs::perms::owner_all);
  CHECK((fs::status(deep).permissions() & fs::perms::all) == fs::perms::owner_all);
  // Under a file: the error names the folder it could not make.
  const auto file = base / "a-file";
  { std::ofstream(file) << "x"; }
  try {
    runner::store::open_store("sqlite:" + (file / "sub" / "runner.db").string());
    FAIL("a store under a file opened");
  } catch (const runner::store::StoreError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("cannot create folder " + file.string()));
  }
  fs::remove_all(base);
}

// Store, schema version 3 (issue 14), on both backends: a store written by version 1 (plain JSON
// blocks) is migrated and keeps reading, next to the compressed blocks StoreSink now writes;
// deletes count events exactly even when sequences have gaps, and record who removed them;
// prune deletes only jobs and events.
#include "store/event_block.hpp"
#include "store/retention.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"
#include "store/store_sink.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <random>

using runner::logging::EventTime;
using runner::logging::Level;
using runner::store::EventBlock;
using runner::store::JobRecord;
using runner::store::Store;

namespace {

namespace fs = std::filesystem;

std::string random_hex(std::size_t n) {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += "0123456789abcdef"[gen() % 16];
  return s;
}

// A version-1 store (made with the version-1 migration's own SQL) holding one job with one
// plain-JSON block of three events, sequences 1, 2 and 5.
constexpr std::string_view kOldJob = "0190aaaa-0000-7000-8000-000000000001";
std::string v1_rows() {
  return std::string(
             "INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0);"
             "INSERT INTO jobs (id, status, created_at, finished_at, events_stored) "
             "VALUES ('") +
         std::string(kOldJob) +
         "', 'success', 1, 2, 5);"
         "INSERT INTO event_blocks (job_id, first_sequence, last_sequence, min_time, max_time, "
         "level_mask, events) VALUES ('" +
         std::string(kOldJob) +
         "', 1, 5, 10, 30, 2, '[[1,10,\"old one\"],[2,20,\"old two\"],[5,30,\"old five\"]]');";
}

class Sqlite {
 public:
  Sqlite() : dir_(fs::temp_directory_path() / ("runner-v3-" + random_hex(10))) {
    fs::create_directories(dir_);
    exec(std::string(runner::store::schema::kCreateMigrationsTable) + ";" +
         std::string(runner::store::schema::migrations()[0].sqlite_sql) + v1_rows());
  }
  ~Sqlite() { fs::remove_all(dir_); }
  std::string url() const { return "sqlite:" + (dir_ / "runner.db").string(); }
  std::string scalar(const std::string& sql) const {
    std::string out;
    run(sql, &out);
    return out;
  }
  void exec(const std::string& sql) const { run(sql, nullptr); }

 private:
  void run(const std::string& sql, std::string* out) const {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir_ / "runner.db").c_str(), &db) == SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> guard(db, sqlite3_close);
    char* error = nullptr;
    const int rc = sqlite3_exec(
        db, sql.c_str(),
        [](void* o, int, char** v, char**) {
          if (o != nullptr && v[0] != nullptr) *static_cast<std::string*>(o) = v[0];
          return 0;
        },
        out, &error);
    INFO(sql << ": " << (error != nullptr ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  fs::path dir_;
};

class Postgres {
 public:
  Postgres() : schema_("t_" + random_hex(12)) {
    const char* base = std::getenv("RUNNER_TEST_POSTGRES_URL");
    if (base == nullptr || *base == '\0') FAIL("RUNNER_TEST_POSTGRES_URL is not set");
    base_ = base;
    run(base_, "CREATE SCHEMA " + schema_);
    run(url(), std::string(runner::store::schema::kCreateMigrationsTable) + ";" +
                   std::string(runner::store::schema::migrations()[0].postgres_sql) + v1_rows());
  }
  ~Postgres() {
    PGconn* c = PQconnectdb(base_.c_str());
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").c_str()));
    PQfinish(c);
  }
  std::string url() const {
    return base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema_;
  }
  std::string scalar(const std::string& sql) const { return run(url(), sql); }
  void exec(const std::string& sql) const { run(url(), sql); }

 private:
  static std::string run(const std::string& url, const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(url.c_str()), PQfinish);
    REQUIRE(PQstatus(c.get()) == CONNECTION_OK);
    PQsetNoticeProcessor(
        c.get(), [](void*, const char*) {}, nullptr);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), PQclear);
    INFO(sql << ": " << PQresultErrorMessage(r.get()));
    REQUIRE((PQresultStatus(r.get()) == PGRES_COMMAND_OK ||
             PQresultStatus(r.get()) == PGRES_TUPLES_OK));
    return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
  }
  std::string base_;
  std::string schema_;
};

std::vector<std::string> messages(Store& store, std::string_view job) {
  std::vector<std::string> out;
  for (const auto& b : store.job_blocks(job, 0, 1000))
    for (const auto& e : runner::store::decode_block(b)) out.push_back(e.message);
  return out;
}

// A new job written through StoreSink, 3000 events with a gap after every 10th sequence.
std::string write_new_job(const std::string& url) {
  JobRecord job;
  job.id = "0190bbbb-0000-7000-8000-" + random_hex(12);
  job.status = "processing";
  {
    runner::store::StoreSink sink(runner::store::open_store(url), job);
    std::uint64_t seq = 0;
    for (int i = 0; i < 3000; ++i) {
      seq += (i % 10 == 0) ? 2 : 1;
      const std::string text = "new line " + std::to_string(i);
      sink.write(runner::logging::Event{runner::logging::now_utc(), job.id, seq, Level::info,
                                        "stdout", text, nullptr});
      if (i % 500 == 0) sink.flush();
    }
    runner::logging::JobSummary summary;
    summary.job_id = job.id;
    summary.status = runner::logging::JobStatus::success;
    sink.finish(summary);
    REQUIRE_FALSE(sink.error());
  }
  return job.id;
}

template <class Db>
void v3_case(Db& db) {
  auto store = runner::store::open_store(db.url());  // migrates 1 -> the newest
  CHECK(db.scalar("SELECT max(version) FROM schema_migrations") ==
        std::to_string(runner::store::schema::latest_version()));
  CHECK(messages(*store, kOldJob) == std::vector<std::string>{"old one", "old two", "old five"});
  const std::string fresh = write_new_job(db.url());
  const auto got = messages(*store, fresh);
  REQUIRE(got.size() == 3000);
  CHECK(got.back() == "new line 2999");
  // New blocks are packed (and small); the old one is not. The view still expands the old one.
  CHECK(db.scalar("SELECT count(*) FROM event_blocks WHERE job_id = '" + fresh +
                  "' AND packed IS NULL") == "0");
  CHECK(db.scalar("SELECT sum(event_count) FROM event_blocks WHERE job_id = '" + fresh + "'") ==
        "3000");
  CHECK(db.scalar("SELECT count(*) FROM events WHERE job_id = '" + std::string(kOldJob) + "'") ==
        "3");
  // Deleting through the end counts events (3 + 3000), not sequence spans (5 + 3300).
  const auto deleted = store->delete_blocks_through(
      {runner::logging::now_utc() + std::chrono::hours(1), ""}, std::nullopt);
  CHECK(deleted == 3003);
  const auto removals = store->event_removals(fresh);
  REQUIRE(removals.size() == 1);
  CHECK(removals[0].removed_by == "ship");
  CHECK(removals[0].events == 3000);
  CHECK(removals[0].first_sequence == 2);
  CHECK(removals[0].last_sequence == 3300);
  CHECK(store->event_removals(kOldJob).at(0).events == 3);
}

template <class Db>
void prune_case(Db& db) {
  auto store = runner::store::open_store(db.url());
  const std::string fresh = write_new_job(db.url());
  db.exec("INSERT INTO kv (key, value, updated_at) VALUES ('k', 'v', 0)");
  store->put_value("offset", "x");
  // What issue 13 keeps about a job goes with it; the component's state stays.
  store->put_usage(fresh, R"([{"metric":"kB","value":1}])");
  store->put_job_runs(fresh, R"({"rows":[],"stages":[]})");
  runner::store::PruneOptions options;
  options.filter.finished_before = runner::logging::now_utc() + std::chrono::hours(1);
  options.filter.status = "success";
  options.dry_run = true;
  auto report = runner::store::prune(*store, options);
  CHECK(report.jobs.size() == 2);
  CHECK(store->find_job(fresh));
  options.dry_run = false;
  report = runner::store::prune(*store, options);
  CHECK(report.removed.jobs == 2);
  CHECK(report.removed.events == 3003);
  CHECK_FALSE(store->find_job(fresh));
  CHECK_FALSE(store->find_job(kOldJob));
  CHECK(db.scalar("SELECT count(*) FROM event_blocks") == "0");
  CHECK_FALSE(store->job_usage(fresh));
  CHECK_FALSE(store->job_runs(fresh));
  CHECK(db.scalar("SELECT count(*) FROM job_usage") == "0");
  CHECK(db.scalar("SELECT count(*) FROM job_runs") == "0");
  CHECK(store->get_value("offset") == "x");  // kv is not pruned
  CHECK(db.scalar("SELECT value FROM kv WHERE key = 'k'") == "v");
  // A job that is not finished is never selected.
  JobRecord running;
  running.id = "0190cccc-0000-7000-8000-000000000009";
  running.status = "processing";
  running.created_at = EventTime(std::chrono::microseconds(1));
  store->insert_job(running);
  options.filter.status.reset();
  CHECK(runner::store::prune(*store, options).removed.jobs == 0);
  CHECK(store->find_job(running.id));
}

}  // namespace

TEST_CASE(
    "sqlite store - a version 1 store migrates to the newest version and reads old and compressed "
    "blocks",
    "[store][sqlite][codec]") {
  Sqlite db;
  v3_case(db);
}

TEST_CASE(
    "postgres store - a version 1 store migrates to the newest version and reads old and "
    "compressed blocks",
    "[store][postgres][codec]") {
  Postgres db;
  v3_case(db);
}

TEST_CASE("sqlite store - prune deletes finished jobs and their events, nothing else",
          "[store][sqlite][prune]") {
  Sqlite db;
  prune_case(db);
}

TEST_CASE("postgres store - prune deletes finished jobs and their events, nothing else",
          "[store][postgres][prune]") {
  Postgres db;
  prune_case(db);
}

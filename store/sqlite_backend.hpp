// The SQLite backend's own types (sqlite_store.hpp is the public side): the connection and its
// statement cache (SqliteStore), a statement in use (Query), a write transaction, and the row
// mappings. Only the backend's files include this: sqlite_store.cpp (the connection, the schema,
// jobs, events, retention, key-value) and sqlite_queue.cpp (component state, usage and the job
// queue), split by concern so that neither is a thousand lines.
#pragma once

#include "store/schema.hpp"
#include "store/sqlite_store.hpp"
#include "store/store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace runner::store::sqlite_backend {

using schema::from_micros;
using schema::micros;

using schema::from_micros;
using schema::micros;

struct DbClose {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using DbHandle = std::unique_ptr<sqlite3, DbClose>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

inline std::int64_t to_i64(std::size_t n) {
  return n > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(n);
}

// Creates the missing folders of `dir`, each with mode 0700: the missing ancestors are found
// walking up, then made top down (a loop, not a recursion: the path is RUNNER_STORE's or
// --store's, whatever its depth).
inline void create_folders(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (auto d = dir; !d.empty() && !std::filesystem::is_directory(d, ec); d = d.parent_path()) {
    missing.push_back(d);
    if (d.parent_path() == d) break;  // the root
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
      throw StoreError(
          fmt::format("cannot create folder {}: {}", it->string(), std::strerror(errno)));
}

// sqlite3_errmsg, and what to do when the file is damaged or is not a database at all.
inline std::string error_text(sqlite3* db, std::string_view message) {
  const int code = sqlite3_errcode(db) & 0xff;
  if (code != SQLITE_CORRUPT && code != SQLITE_NOTADB) return std::string(message);
  return fmt::format(
      "{} (the file is damaged or is not an SQLite database: move it away and runner starts a "
      "new store there; sqlite3's .recover command may rescue what it holds)",
      message);
}

inline std::string insert_job_sql() {
  std::string sql = fmt::format("INSERT INTO jobs ({}) VALUES (", schema::job_columns());
  for (int i = 1; i <= schema::kJobColumnCount; ++i)
    sql += fmt::format("{}?{}", i > 1 ? ", " : "", i);
  sql += ")";
  return sql;
}

class SqliteStore;

// A cached statement in use: bound, stepped, and reset (bindings cleared) when it goes out of
// scope, so the next user finds it fresh.
class Query {
 public:
  Query(const SqliteStore& store, sqlite3_stmt* stmt, std::string_view what)
      : store_(store), stmt_(stmt), what_(what) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Query& bind(int i, std::string_view v) {
    return check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  // No copy: `v` must outlive the statement's use (the hot path's event text).
  Query& bind_static(int i, const std::string& v) {
    return check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
  }
  Query& bind_blob_static(int i, const std::string& v) {
    return check(sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_STATIC));
  }
  Query& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  Query& bind(int i, EventTime t) { return bind(i, micros(t)); }
  template <class T>
  Query& bind(int i, const std::optional<T>& v) {
    if (v) return bind(i, *v);
    return bind_null(i);
  }

  // True when a row is ready; false when done. Throws on failure.
  bool step();
  void run() {
    while (step()) {
    }
  }

  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    if (p == nullptr) return {};
    return std::string(static_cast<const char*>(p),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    if (p == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  }

 private:
  Query& check(int rc);

  const SqliteStore& store_;
  sqlite3_stmt* stmt_;
  std::string what_;  // owned: callers pass temporaries
};

// A job row of `q` (a SELECT of schema::job_columns()) through the shared mapping.
class QueryJobRow final : public schema::JobRow {
 public:
  explicit QueryJobRow(const Query& q) : q_(q) {}
  bool is_null(schema::JobColumn c) const override { return q_.is_null(index(c)); }
  std::int64_t integer(schema::JobColumn c) const override { return q_.i64(index(c)); }
  bool boolean(schema::JobColumn c) const override { return q_.i64(index(c)) != 0; }
  std::string text(schema::JobColumn c) const override { return q_.text(index(c)); }

 private:
  static int index(schema::JobColumn c) { return static_cast<int>(c); }
  const Query& q_;
};

inline JobRecord job_from(const Query& q) {
  return schema::job_from_row(QueryJobRow(q));
}

// The parameters of an INSERT of schema::job_columns(), bound ?1, ?2, ... in order.
class QueryJobParams final : public schema::JobParams {
 public:
  explicit QueryJobParams(Query& q) : q_(q) {}
  void text(std::string_view v) override { q_.bind(++index_, v); }
  void integer(std::optional<std::int64_t> v) override { q_.bind(++index_, v); }
  void boolean(bool v) override { q_.bind(++index_, std::int64_t{v ? 1 : 0}); }

 private:
  Query& q_;
  int index_ = 0;
};

inline EventBlock block_from(const Query& q) {
  EventBlock b;
  b.row_id = q.i64(0);
  b.job_id = q.text(1);
  b.first_sequence = static_cast<std::uint64_t>(q.i64(2));
  b.last_sequence = static_cast<std::uint64_t>(q.i64(3));
  b.min_time = from_micros(q.i64(4));
  b.max_time = from_micros(q.i64(5));
  b.level_mask = static_cast<std::uint32_t>(q.i64(6));
  b.events = q.text(7);
  b.packed = q.blob(8);
  b.event_count = static_cast<std::uint64_t>(q.i64(9));
  return b;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path);

  std::string describe() const override { return "sqlite:" + path_; }
  std::optional<std::filesystem::path> local_file() const override {
    if (path_ == ":memory:") return std::nullopt;
    return std::filesystem::path(path_);
  }
  void set_busy_timeout(std::chrono::milliseconds timeout) override {
    sqlite3_busy_timeout(db_.get(), static_cast<int>(timeout.count()));
  }

  void insert_job(const JobRecord& job) override;
  void mark_started(std::string_view job_id, EventTime started_at) override;
  void set_container(std::string_view job_id, std::string_view container_id) override;
  void finish_job(const JobRecord& finished) override;
  std::optional<JobRecord> find_job(std::string_view id_or_prefix) override;
  std::vector<JobRecord> list_jobs(const JobFilter& filter) override;

  void append_blocks(const std::vector<EventBlock>& blocks) override;
  std::vector<EventBlock> job_blocks(std::string_view job_id, std::uint64_t after_sequence,
                                     std::size_t limit) override;
  std::vector<EventBlock> blocks_in_time(const EventCursor& cursor, EventTime until,
                                         const std::optional<std::string>& namespace_name,
                                         logging::Level min_level, BlockPage page,
                                         std::size_t limit) override;
  std::uint64_t delete_blocks_through(const EventCursor& cursor,
                                      const std::optional<std::string>& namespace_name) override;

  std::vector<EventRemoval> event_removals(std::string_view job_id) override;
  std::vector<JobRecord> prunable_jobs(const PruneFilter& filter) override;
  RemovedCounts delete_jobs(const std::vector<std::string>& job_ids, bool keep_jobs) override;
  std::uint64_t reclaim_space(std::uint64_t max_bytes) override;
  std::optional<std::uint64_t> size_bytes() override;

  std::optional<std::string> get_value(std::string_view key) override;
  void put_value(std::string_view key, std::string_view value) override;

  void write_state(const StateWrite& write) override;
  std::optional<StateWrite> read_state(const StateKey& key) override;
  std::vector<StateWrite> state_history(const StateKey& key, std::size_t limit) override;
  std::vector<StateWrite> job_state_writes(std::string_view job_id) override;
  void put_usage(std::string_view job_id, std::string_view usage) override;
  std::optional<std::string> job_usage(std::string_view job_id) override;
  void put_job_runs(std::string_view job_id, std::string_view runs) override;
  std::optional<std::string> job_runs(std::string_view job_id) override;

  void enqueue(const JobRecord& job) override;
  std::optional<JobRecord> claim_job(std::string_view worker_id,
                                     std::chrono::milliseconds lease) override;
  Heartbeat heartbeat(std::string_view worker_id, const std::vector<std::string>& job_ids,
                      std::chrono::milliseconds lease) override;
  std::optional<JobRecord> request_cancel(std::string_view id_or_prefix) override;
  std::vector<JobRecord> end_exhausted_jobs() override;
  void release_job(std::string_view job_id, std::string_view worker_id) override;
  bool wait_for_jobs(std::chrono::milliseconds timeout, int wake_fd) override;

  [[noreturn]] void fail(std::string_view what) const {
    const int code = sqlite3_errcode(db_.get()) & 0xff;
    throw StoreError(fmt::format("{}: {}: {}", describe(), what,
                                 error_text(db_.get(), sqlite3_errmsg(db_.get()))),
                     code == SQLITE_BUSY || code == SQLITE_LOCKED, code == SQLITE_FULL);
  }

 private:
  friend class WriteTransaction;

  Query query(const std::string& sql, std::string_view what);
  void migrate();
  // The versions in schema_migrations (none without the table), newest last.
  std::vector<int> schema_versions();
  void insert_job_as(const JobRecord& job, std::string_view status, std::string_view what);
  int changes() const { return sqlite3_changes(db_.get()); }
  void record_removals(const schema::RemovalSpans& spans, schema::RemovedBy by);
  std::int64_t pragma(const std::string& name);
  void exec_or_throw(const std::string& sql, std::string_view what);
  // The one-text-per-key tables (kv, job_usage, job_runs: schema::KeyedText).
  std::optional<std::string> read_keyed(schema::KeyedText table, std::string_view key);
  void write_keyed(schema::KeyedText table, std::string_view key, std::string_view text);

  std::string path_;
  DbHandle db_;
  // Declared after db_: statements are finalized before the connection closes.
  std::unordered_map<std::string, StmtHandle> statements_;
};

inline bool Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  store_.fail(what_);
}

inline Query& Query::check(int rc) {
  if (rc != SQLITE_OK) store_.fail(what_);
  return *this;
}

// BEGIN IMMEDIATE ... COMMIT; rolled back unless committed.
class WriteTransaction {
 public:
  WriteTransaction(SqliteStore& store, std::string_view what) : store_(store), what_(what) {
    store_.query("BEGIN IMMEDIATE", what_).run();
  }
  ~WriteTransaction() {
    if (!done_) sqlite3_exec(store_.db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit() {
    store_.query("COMMIT", what_).run();
    done_ = true;
  }

 private:
  SqliteStore& store_;
  std::string what_;
  bool done_ = false;
};

}  // namespace runner::store::sqlite_backend

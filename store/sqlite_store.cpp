// The SQLite backend (sqlite_store.hpp): the connection, the schema, jobs, events, retention and
// key-value offsets; component state, usage and the queue are in sqlite_queue.cpp. One
// connection per Store; statements are prepared once (SQLITE_PREPARE_PERSISTENT) and kept in a
// cache keyed by their text, so the hot path (append_blocks: one insert per block) only binds
// and steps.
#include "store/sqlite_backend.hpp"

#include "store/block_codec.hpp"

#include <chrono>
#include <map>
#include <thread>

namespace runner::store {

namespace sqlite_backend {

namespace fs = std::filesystem;

SqliteStore::SqliteStore(std::string path) : path_(std::move(path)) {
  try {
    if (path_ != ":memory:") create_folders(fs::path(path_).parent_path());
    std::error_code size_error;
    const bool new_file = path_ == ":memory:" || !fs::exists(path_, size_error) ||
                          fs::file_size(path_, size_error) == 0;
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path_.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK)
      throw StoreError(raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_extended_result_codes(db_.get(), 1);
    sqlite3_busy_timeout(db_.get(), static_cast<int>(kSqliteBusyTimeout.count()));
    char* error = nullptr;
    // page_size only applies to a new, empty file (it must come before WAL): 16 KiB pages hold
    // event blocks (hundreds of KiB of text) with fewer overflow pages, ~30% faster appends.
    // journal_mode=WAL is persistent (the first opener sets it); NORMAL is safe with WAL (a
    // power loss may lose the last commits, never corrupt the file) and much faster than FULL.
    // auto_vacuum=INCREMENTAL, also only for a new file: `runner prune` gives freed pages back
    // to the file system (incremental_vacuum) instead of keeping the file at its largest. Set
    // only on a new file: on an existing one the pragma waits for a write lock, so a store locked
    // by another process would hold up the job's start (issue 14: a busy store delays nothing).
    const std::string pragmas = std::string("PRAGMA page_size=16384; ") +
                                (new_file ? "PRAGMA auto_vacuum=INCREMENTAL; " : "") +
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL";
    // Setting journal_mode can meet SQLITE_BUSY without the busy handler being called (another
    // connection opening the same new file at the same moment: "stores opened at once" failed
    // so once in a full run). Tried again, 20 ms apart, for as long as the busy timeout.
    const auto give_up = std::chrono::steady_clock::now() + kSqliteBusyTimeout;
    int rc_pragmas = SQLITE_OK;
    for (;;) {
      rc_pragmas = sqlite3_exec(db_.get(), pragmas.c_str(), nullptr, nullptr, &error);
      if ((rc_pragmas & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= give_up) break;
      sqlite3_free(error);
      error = nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (rc_pragmas != SQLITE_OK) {
      std::string message =
          error_text(db_.get(), error != nullptr ? error : sqlite3_errmsg(db_.get()));
      sqlite3_free(error);
      throw StoreError(message);
    }
    migrate();
  } catch (const StoreError& e) {
    const std::string prefix = describe() + ": ";
    std::string_view message = e.what();
    if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
    statements_.clear();
    db_.reset();
    throw StoreError(fmt::format("cannot open {}: {}", describe(), message));
  }
}

Query SqliteStore::query(const std::string& sql, std::string_view what) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    // Statements name statuses as {waiting}, ...: the enum's names (schema::with_statuses).
    const std::string text = schema::with_statuses(sql);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_.get(), text.data(), static_cast<int>(text.size()),
                           SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK)
      fail(what);
    it = statements_.emplace(sql, StmtHandle(raw)).first;
  }
  return Query(*this, it->second.get(), what);
}

std::vector<int> SqliteStore::schema_versions() {
  {
    auto q = query(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        "read the schema version");
    if (!q.step() || q.i64(0) == 0) return {};
  }
  auto q =
      query("SELECT version FROM schema_migrations ORDER BY version", "read the schema version");
  std::vector<int> versions;
  while (q.step()) versions.push_back(static_cast<int>(q.i64(0)));
  return versions;
}

void SqliteStore::migrate() {
  const int latest = schema::latest_version();
  auto versions = schema_versions();
  if (!versions.empty() && versions.back() > latest)
    throw schema::newer_schema_error(describe(), versions.back());
  if (schema::pending_migrations(versions).empty()) return;  // nothing to do, nothing written

  WriteTransaction tx(*this, "migrate the schema");
  versions = schema_versions();  // another process may have migrated meanwhile
  if (!versions.empty() && versions.back() > latest)
    throw schema::newer_schema_error(describe(), versions.back());
  query(std::string(schema::kCreateMigrationsTable), "create schema_migrations").run();
  for (const auto& m : schema::pending_migrations(versions)) {
    char* error = nullptr;
    const std::string sql(m.sqlite_sql);
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errmsg(db_.get());
      sqlite3_free(error);
      throw StoreError(
          fmt::format("schema migration {} ({}) failed: {}", m.version, m.description, message));
    }
    query("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
          "record the schema migration")
        .bind(1, std::int64_t{m.version})
        .bind(2, logging::now_utc())
        .run();
  }
  tx.commit();
}

// --- jobs ---------------------------------------------------------------------------------------

void SqliteStore::insert_job_as(const JobRecord& job, std::string_view status,
                                std::string_view what) {
  static const std::string sql = insert_job_sql();
  auto q = query(sql, what);
  QueryJobParams params(q);
  schema::add_job_params(job, status, params);
  q.run();
}

void SqliteStore::insert_job(const JobRecord& job) {
  insert_job_as(job, job.status.empty() ? kStatusCreated : std::string_view(job.status),
                "insert job " + job.id);
}

void SqliteStore::mark_started(std::string_view job_id, EventTime started_at) {
  const std::string what = fmt::format("mark job {} started", job_id);
  // A job whose cancel was requested meanwhile stays terminating.
  query(
      "UPDATE jobs SET status = CASE WHEN status = {terminating} THEN status ELSE {processing} "
      "END, started_at = ?1 WHERE id = ?2",
      what)
      .bind(1, started_at)
      .bind(2, job_id)
      .run();
  if (changes() == 0) throw StoreError(fmt::format("{}: {}: no such job", describe(), what));
}

void SqliteStore::set_container(std::string_view job_id, std::string_view container_id) {
  const std::string what = fmt::format("set the container of job {}", job_id);
  query("UPDATE jobs SET container_id = ?1 WHERE id = ?2", what)
      .bind(1, container_id)
      .bind(2, job_id)
      .run();
  if (changes() == 0) throw StoreError(fmt::format("{}: {}: no such job", describe(), what));
}

void SqliteStore::finish_job(const JobRecord& f) {
  const std::string what = fmt::format("record the result of job {}", f.id);
  query(
      "UPDATE jobs SET status = ?1, error_type = ?2, message = ?3, exit_code = ?4, "
      "container_exit_code = ?5, finished_at = ?6, outputs = ?7, metrics = ?8, "
      "lease_until = NULL, started_at = coalesce(started_at, ?9), "
      "container_id = coalesce(nullif(?10, ''), container_id), events_missing = ?12, "
      "events_missing_reason = ?13 WHERE id = ?11",
      what)
      .bind(1, f.status)
      .bind(2, f.error_type)
      .bind(3, f.message)
      .bind(4, f.exit_code ? std::optional<std::int64_t>(*f.exit_code) : std::nullopt)
      .bind(5, f.container_exit_code)
      .bind(6, f.finished_at.value_or(logging::now_utc()))
      .bind(7, f.outputs.empty() ? std::string_view("{}") : std::string_view(f.outputs))
      .bind(8, f.metrics.empty() ? std::string_view("[]") : std::string_view(f.metrics))
      .bind(9, f.started_at)
      .bind(10, f.container_id)
      .bind(11, f.id)
      .bind(12, f.events_missing)
      .bind(13, f.events_missing_reason)
      .run();
  if (changes() == 0) throw StoreError(fmt::format("{}: {}: no such job", describe(), what));
}

std::optional<JobRecord> SqliteStore::find_job(std::string_view id_or_prefix) {
  const std::string what = fmt::format("find job {}", id_or_prefix);
  static const std::string exact =
      fmt::format("SELECT {} FROM jobs WHERE id = ?1", schema::job_columns());
  {
    auto q = query(exact, what);
    q.bind(1, id_or_prefix);
    if (q.step()) return job_from(q);
  }
  // The ids starting with the prefix (one more than are shown, to say "and more").
  std::vector<std::string> found;
  const std::string limit = std::to_string(JobIdPrefixError::kPrefixCandidates + 1);
  if (const auto upper = schema::prefix_upper_bound(id_or_prefix)) {
    static const std::string range =
        "SELECT id FROM jobs WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT " + limit;
    auto q = query(range, what);
    q.bind(1, id_or_prefix).bind(2, *upper);
    while (q.step()) found.push_back(q.text(0));
  } else {
    static const std::string scan =
        "SELECT id FROM jobs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT " + limit;
    auto q = query(scan, what);
    q.bind(1, id_or_prefix);
    while (q.step()) found.push_back(q.text(0));
  }
  if (found.empty()) return std::nullopt;
  if (found.size() > 1 || id_or_prefix.size() < schema::kMinIdPrefix)
    throw JobIdPrefixError(id_or_prefix, std::move(found));
  auto q = query(exact, what);
  q.bind(1, found.front());
  if (q.step()) return job_from(q);
  return std::nullopt;  // removed in between
}

std::vector<JobRecord> SqliteStore::list_jobs(const JobFilter& filter) {
  std::string sql = fmt::format("SELECT {} FROM jobs WHERE 1 = 1", schema::job_columns());
  if (filter.namespace_name)
    sql += " AND (namespace_name = ?1 OR (namespace_name >= ?2 AND namespace_name < ?3))";
  if (filter.status) sql += " AND status = ?4";
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?5";
  auto q = query(sql, "list jobs");
  if (filter.namespace_name) {
    const auto r = schema::namespace_range(*filter.namespace_name);
    q.bind(1, r.exact).bind(2, r.children_from).bind(3, r.children_below);
  }
  if (filter.status) q.bind(4, *filter.status);
  q.bind(5, to_i64(filter.limit));
  std::vector<JobRecord> jobs;
  while (q.step()) jobs.push_back(job_from(q));
  return jobs;
}

// --- events -------------------------------------------------------------------------------------

void SqliteStore::append_blocks(const std::vector<EventBlock>& given) {
  const auto repacked = packed_for_storing(given);
  const std::vector<EventBlock>& blocks = repacked ? *repacked : given;
  if (blocks.empty()) return;
  const std::string what =
      fmt::format("store {} event blocks of job {}", blocks.size(), blocks.front().job_id);
  std::map<std::string_view, std::uint64_t> highest;
  WriteTransaction tx(*this, what);
  for (const auto& b : blocks) {
    auto q = query(
        "INSERT INTO event_blocks (job_id, first_sequence, last_sequence, min_time, max_time, "
        "level_mask, events, packed, event_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        what);
    q.bind(1, b.job_id)
        .bind(2, static_cast<std::int64_t>(b.first_sequence))
        .bind(3, static_cast<std::int64_t>(b.last_sequence))
        .bind(4, b.min_time)
        .bind(5, b.max_time)
        .bind(6, static_cast<std::int64_t>(b.level_mask))
        .bind_static(7, b.events);
    if (b.packed.empty())
      q.bind_null(8);
    else
      q.bind_blob_static(8, b.packed);
    if (b.event_count > 0)
      q.bind(9, static_cast<std::int64_t>(b.event_count));
    else
      q.bind_null(9);
    q.run();
    auto& h = highest[b.job_id];
    if (b.last_sequence > h) h = b.last_sequence;
  }
  for (const auto& [job_id, last] : highest) {
    query("UPDATE jobs SET events_stored = max(events_stored, ?1) WHERE id = ?2", what)
        .bind(1, static_cast<std::int64_t>(last))
        .bind(2, job_id)
        .run();
  }
  tx.commit();
}

std::vector<EventBlock> SqliteStore::job_blocks(std::string_view job_id,
                                                std::uint64_t after_sequence, std::size_t limit) {
  static const std::string sql = fmt::format(
      "SELECT {} FROM event_blocks WHERE job_id = ?1 AND last_sequence > ?2 "
      "ORDER BY first_sequence LIMIT ?3",
      schema::kBlockColumns);
  auto q = query(sql, fmt::format("read the events of job {}", job_id));
  q.bind(1, job_id).bind(2, static_cast<std::int64_t>(after_sequence)).bind(3, to_i64(limit));
  std::vector<EventBlock> blocks;
  while (q.step()) blocks.push_back(block_from(q));
  return blocks;
}

std::vector<EventBlock> SqliteStore::blocks_in_time(
    const EventCursor& cursor, EventTime until, const std::optional<std::string>& namespace_name,
    logging::Level min_level, BlockPage page, std::size_t limit) {
  std::string sql = fmt::format(
      "SELECT {} FROM event_blocks WHERE max_time >= ?1 AND min_time < ?2 "
      "AND (level_mask & ?3) != 0 AND (min_time, row_id) > (?4, ?5)",
      schema::kBlockColumns);
  if (namespace_name)
    sql +=
        " AND job_id IN (SELECT id FROM jobs WHERE namespace_name = ?6 "
        "OR (namespace_name >= ?7 AND namespace_name < ?8))";
  sql += " ORDER BY min_time, row_id LIMIT ?9";
  auto q = query(sql, "read event blocks by time");
  q.bind(1, cursor.time)
      .bind(2, until)
      .bind(3, schema::level_mask_at_least(min_level))
      .bind(4, page.after_min_time)
      .bind(5, page.after_row_id)
      .bind(9, to_i64(limit));
  if (namespace_name) {
    const auto r = schema::namespace_range(*namespace_name);
    q.bind(6, r.exact).bind(7, r.children_from).bind(8, r.children_below);
  }
  std::vector<EventBlock> blocks;
  while (q.step()) blocks.push_back(block_from(q));
  return blocks;
}

std::uint64_t SqliteStore::delete_blocks_through(const EventCursor& cursor,
                                                 const std::optional<std::string>& namespace_name) {
  // A block's greatest event id is that of its last event: when it is <= cursor.id, every event
  // of the block at cursor.time was read.
  std::string sql =
      "DELETE FROM event_blocks WHERE (max_time < ?1 OR (max_time = ?1 AND "
      "job_id || '-' || printf('%012d', last_sequence) <= ?2))";
  if (namespace_name)
    sql +=
        " AND job_id IN (SELECT id FROM jobs WHERE namespace_name = ?3 "
        "OR (namespace_name >= ?4 AND namespace_name < ?5))";
  sql += fmt::format(" RETURNING job_id, first_sequence, last_sequence, {}",
                     schema::kSqliteBlockEvents);
  WriteTransaction tx(*this, "delete shipped event blocks");
  schema::RemovalSpans spans;
  std::uint64_t deleted = 0;
  {
    auto q = query(sql, "delete shipped event blocks");
    q.bind(1, cursor.time).bind(2, cursor.id);
    if (namespace_name) {
      const auto r = schema::namespace_range(*namespace_name);
      q.bind(3, r.exact).bind(4, r.children_from).bind(5, r.children_below);
    }
    while (q.step()) {
      const auto n = static_cast<std::uint64_t>(q.i64(3));
      spans[q.text(0)].add(static_cast<std::uint64_t>(q.i64(1)),
                           static_cast<std::uint64_t>(q.i64(2)), n);
      deleted += n;
    }
  }
  record_removals(spans, schema::RemovedBy::ship);
  tx.commit();
  return deleted;
}

void SqliteStore::record_removals(const schema::RemovalSpans& spans, schema::RemovedBy by) {
  const auto now = logging::now_utc();
  for (const auto& [job_id, span] : spans) {
    query(
        "INSERT INTO event_removals (job_id, removed_by, removed_at, events, first_sequence, "
        "last_sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        "record removed events")
        .bind(1, job_id)
        .bind(2, schema::removed_by_name(by))
        .bind(3, now)
        .bind(4, static_cast<std::int64_t>(span.events))
        .bind(5, static_cast<std::int64_t>(span.first_sequence))
        .bind(6, static_cast<std::int64_t>(span.last_sequence))
        .run();
  }
}

std::vector<EventRemoval> SqliteStore::event_removals(std::string_view job_id) {
  auto q = query(
      "SELECT job_id, removed_by, removed_at, events, first_sequence, last_sequence "
      "FROM event_removals WHERE job_id = ?1 ORDER BY row_id",
      fmt::format("read the event removals of job {}", job_id));
  q.bind(1, job_id);
  std::vector<EventRemoval> out;
  while (q.step()) {
    out.push_back(EventRemoval{
        q.text(0), q.text(1), from_micros(q.i64(2)), static_cast<std::uint64_t>(q.i64(3)),
        static_cast<std::uint64_t>(q.i64(4)), static_cast<std::uint64_t>(q.i64(5))});
  }
  return out;
}

// --- retention ----------------------------------------------------------------------------------

std::vector<JobRecord> SqliteStore::prunable_jobs(const PruneFilter& filter) {
  std::string sql = fmt::format(
      "SELECT {} FROM jobs WHERE status IN {} AND coalesce(finished_at, created_at) < ?1",
      schema::job_columns(), schema::kFinalStatusesSql);
  if (filter.namespace_name)
    sql += " AND (namespace_name = ?2 OR (namespace_name >= ?3 AND namespace_name < ?4))";
  if (filter.status) sql += " AND status = ?5";
  if (filter.only_with_events)
    sql += " AND EXISTS (SELECT 1 FROM event_blocks AS b WHERE b.job_id = jobs.id)";
  sql += " ORDER BY coalesce(finished_at, created_at), id LIMIT ?6";
  auto q = query(sql, "list jobs to prune");
  q.bind(1, filter.finished_before).bind(6, to_i64(filter.limit));
  if (filter.namespace_name) {
    const auto r = schema::namespace_range(*filter.namespace_name);
    q.bind(2, r.exact).bind(3, r.children_from).bind(4, r.children_below);
  }
  if (filter.status) q.bind(5, *filter.status);
  std::vector<JobRecord> jobs;
  while (q.step()) jobs.push_back(job_from(q));
  return jobs;
}

// One short transaction per job: other processes' appends wait at most that long.
RemovedCounts SqliteStore::delete_jobs(const std::vector<std::string>& job_ids, bool keep_jobs) {
  RemovedCounts counts;
  for (const auto& id : job_ids) {
    const std::string what = fmt::format("prune job {}", id);
    WriteTransaction tx(*this, what);
    schema::RemovalSpans spans;
    {
      auto q = query(fmt::format("DELETE FROM event_blocks WHERE job_id = ?1 RETURNING "
                                 "first_sequence, last_sequence, {}",
                                 schema::kSqliteBlockEvents),
                     what);
      q.bind(1, id);
      while (q.step()) {
        spans[id].add(static_cast<std::uint64_t>(q.i64(0)), static_cast<std::uint64_t>(q.i64(1)),
                      static_cast<std::uint64_t>(q.i64(2)));
        ++counts.blocks;
      }
    }
    if (const auto it = spans.find(id); it != spans.end()) counts.events += it->second.events;
    if (keep_jobs) {
      record_removals(spans, schema::RemovedBy::prune);
    } else {
      // Everything kept about the job goes with it; component state (the component's, not the
      // job's) stays.
      for (const char* table : {"event_removals", "job_usage", "job_runs"})
        query(fmt::format("DELETE FROM {} WHERE job_id = ?1", table), what).bind(1, id).run();
      query("DELETE FROM jobs WHERE id = ?1", what).bind(1, id).run();
      counts.jobs += static_cast<std::uint64_t>(changes());
    }
    tx.commit();
  }
  return counts;
}

std::int64_t SqliteStore::pragma(const std::string& name) {
  auto q = query("PRAGMA " + name, "read PRAGMA " + name);
  return q.step() ? q.i64(0) : 0;
}

void SqliteStore::exec_or_throw(const std::string& sql, std::string_view what) {
  char* error = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : sqlite3_errmsg(db_.get());
    sqlite3_free(error);
    throw StoreError(fmt::format("{}: {}: {}", describe(), what, message));
  }
}

std::uint64_t SqliteStore::reclaim_space(std::uint64_t max_bytes) {
  const auto before = size_bytes().value_or(0);
  const std::int64_t page_size = pragma("page_size");
  if (pragma("auto_vacuum") == 0) {
    // A file created before schema version 3 has no incremental vacuum: only an explicit,
    // unbounded reclaim converts it, with one VACUUM (it rewrites the file and holds the write
    // lock meanwhile: never done by the automatic retention).
    if (max_bytes != std::numeric_limits<std::uint64_t>::max()) return 0;
    exec_or_throw("PRAGMA auto_vacuum=INCREMENTAL; VACUUM",
                  "convert the file to incremental vacuum");
  } else {
    const std::int64_t free_pages = pragma("freelist_count");
    const std::int64_t pages =
        page_size > 0 ? std::min<std::int64_t>(free_pages, to_i64(max_bytes / page_size)) : 0;
    if (pages <= 0) return 0;
    exec_or_throw(fmt::format("PRAGMA incremental_vacuum({})", pages), "give freed pages back");
  }
  // The file shrinks at the checkpoint; TRUNCATE also empties the WAL (best effort: a reader
  // holding an old snapshot makes it return busy, and the next checkpoint finishes the job).
  sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  const auto after = size_bytes().value_or(0);
  return before > after ? before - after : 0;
}

std::optional<std::uint64_t> SqliteStore::size_bytes() {
  if (path_ == ":memory:") return std::nullopt;
  std::uint64_t total = 0;
  std::error_code ec;
  const auto main = fs::file_size(path_, ec);
  if (ec) return std::nullopt;
  total += main;
  const auto wal = fs::file_size(path_ + "-wal", ec);
  if (!ec) total += wal;
  return total;
}

// --- key-value ----------------------------------------------------------------------------------

std::optional<std::string> SqliteStore::read_keyed(schema::KeyedText table, std::string_view key) {
  auto q =
      query(schema::keyed_text_select(table, '?'), "read " + schema::keyed_text_what(table, key));
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

void SqliteStore::write_keyed(schema::KeyedText table, std::string_view key,
                              std::string_view text) {
  query(schema::keyed_text_upsert(table, '?'), "store " + schema::keyed_text_what(table, key))
      .bind(1, key)
      .bind(2, text)
      .bind(3, logging::now_utc())
      .run();
}

std::optional<std::string> SqliteStore::get_value(std::string_view key) {
  return read_keyed(schema::KeyedText::kv, key);
}

void SqliteStore::put_value(std::string_view key, std::string_view value) {
  write_keyed(schema::KeyedText::kv, key, value);
}

}  // namespace sqlite_backend

std::unique_ptr<Store> open_sqlite_store(std::string_view path) {
  return std::make_unique<sqlite_backend::SqliteStore>(std::string(path));
}

}  // namespace runner::store

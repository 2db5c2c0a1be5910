// The PostgreSQL backend (postgres_store.hpp): the connection, the schema, jobs, events,
// retention and key-value offsets; component state, usage and the queue are in
// postgres_queue.cpp. One PGconn per Store; every statement goes through PQexecParams with typed
// parameters (strings in binary format with their length, so nothing is ever quoted into SQL and
// the events text is not copied), results in text format.
#include "store/postgres_backend.hpp"

#include "store/block_codec.hpp"

#include <map>

namespace runner::store {

namespace postgres_backend {

std::string describe_connection(PGconn* conn) {
  const std::string user = PQuser(conn) != nullptr ? PQuser(conn) : "";
  const std::string host = PQhost(conn) != nullptr ? PQhost(conn) : "";
  const std::string port = PQport(conn) != nullptr ? PQport(conn) : "";
  const std::string db = PQdb(conn) != nullptr ? PQdb(conn) : "";
  if (host.empty() || host.front() == '/')  // a Unix socket folder
    return fmt::format("postgresql://{}@/{}?host={}&port={}", user, db, host, port);
  return fmt::format("postgresql://{}@{}:{}/{}", user, host, port, db);
}

PostgresStore::PostgresStore(const std::string& url) {
  // Keywords before dbname are defaults the URL can override.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "runner", url.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keys, values, 1));
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    const std::string why = conn_ ? trim(PQerrorMessage(conn_.get())) : "out of memory";
    throw StoreError(
        fmt::format("PostgreSQL: connection to {} failed: {}", redact_url_password(url), why));
  }
  PQsetNoticeProcessor(conn_.get(), ignore_notice, nullptr);
  described_ = describe_connection(conn_.get());
  try {
    migrate();
  } catch (const StoreError& e) {
    const std::string prefix = described_ + ": ";
    std::string_view message = e.what();
    if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
    throw StoreError(fmt::format("cannot open {}: {}", described_, message));
  }
}

void PostgresStore::fail(std::string_view what, const PGresult* result) const {
  std::string message;
  if (result != nullptr) {
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
    if (primary != nullptr) {
      message = primary;
      if (detail != nullptr) message += fmt::format(" ({})", detail);
    } else {
      message = trim(PQresultErrorMessage(result));
    }
  }
  if (message.empty()) message = trim(PQerrorMessage(conn_.get()));
  if (message.empty()) message = "unknown error";
  // A lost connection is retried by the caller (a new connection is made on the next call).
  throw StoreError(fmt::format("{}: {}: {}", described_, what, message),
                   PQstatus(conn_.get()) != CONNECTION_OK);
}

void PostgresStore::ensure_connected() {
  if (PQstatus(conn_.get()) == CONNECTION_OK) return;
  // A transaction cannot survive a new connection: its statements would run outside it.
  if (transaction_depth_ == 0) {
    PQreset(conn_.get());
    listening_ = false;
    if (PQstatus(conn_.get()) == CONNECTION_OK) return;
  }
  throw StoreError(fmt::format("PostgreSQL: connection to {} lost: {}", described_,
                               trim(PQerrorMessage(conn_.get()))),
                   true);
}

ResultHandle PostgresStore::checked(std::string_view what, PGresult* raw) {
  ResultHandle r(raw);
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(what, r.get());
  return r;
}

ResultHandle PostgresStore::exec(std::string_view what, const std::string& sql,
                                 const Params& params) {
  ensure_connected();
  // Statements name statuses as {waiting}, ...: the enum's names (schema::with_statuses).
  const std::string text = schema::with_statuses(sql);
  return checked(what, PQexecParams(conn_.get(), text.c_str(), params.count(), params.types(),
                                    params.values(), params.lengths(), params.formats(), 0));
}

ResultHandle PostgresStore::exec_script(std::string_view what, const std::string& sql) {
  ensure_connected();
  return checked(what, PQexec(conn_.get(), sql.c_str()));
}

std::vector<int> PostgresStore::schema_versions() {
  // A scan of pg_class, not to_regclass(): that one may answer from a cache that has not yet
  // seen a table another runner's migration just created (it takes no lock).
  auto r = exec("read the schema version",
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = "
                "'schema_migrations' AND relnamespace = current_schema()::regnamespace)");
  if (!cell_bool(r.get(), 0, 0)) return {};
  r = exec("read the schema version", "SELECT version FROM schema_migrations ORDER BY version");
  const int rows = PQntuples(r.get());
  std::vector<int> versions;
  versions.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) versions.push_back(static_cast<int>(cell_i64(r.get(), i, 0)));
  return versions;
}

void PostgresStore::migrate() {
  const int latest = schema::latest_version();
  auto versions = schema_versions();
  if (!versions.empty() && versions.back() > latest)
    throw schema::newer_schema_error(described_, versions.back());
  if (schema::pending_migrations(versions).empty()) return;  // nothing to do, nothing written

  const std::string_view what = "migrate the schema";
  Transaction tx(*this, what);
  // Runners starting together: the first migrates, the others wait here and then find the
  // schema current.
  exec(what, "SELECT pg_advisory_xact_lock($1)", Params().i64(kMigrationLockKey));
  versions = schema_versions();
  if (!versions.empty() && versions.back() > latest)
    throw schema::newer_schema_error(described_, versions.back());
  exec(what, std::string(schema::kCreateMigrationsTable));
  for (const auto& m : schema::pending_migrations(versions)) {
    exec_script(fmt::format("schema migration {} ({})", m.version, m.description),
                std::string(m.postgres_sql));
    exec(what, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
         Params().i64(m.version).time(logging::now_utc()));
  }
  tx.commit();
}

// --- jobs ---------------------------------------------------------------------------------------

void PostgresStore::insert_job(const JobRecord& job) {
  static const std::string sql =
      fmt::format("INSERT INTO jobs ({}) VALUES ({})", schema::job_columns(),
                  placeholders(1, schema::kJobColumnCount));
  Params p;
  add_job_params(p, job, job.status.empty() ? kStatusCreated : std::string_view(job.status));
  exec("insert job " + job.id, sql, p);
}

void PostgresStore::mark_started(std::string_view job_id, EventTime started_at) {
  const std::string what = fmt::format("mark job {} started", job_id);
  auto r = exec(what,
                "UPDATE jobs SET status = CASE WHEN status = {terminating} THEN status "
                "ELSE {processing} END, started_at = $1 WHERE id = $2",
                Params().time(started_at).text(job_id));
  require_job(r, what);
}

void PostgresStore::set_container(std::string_view job_id, std::string_view container_id) {
  const std::string what = fmt::format("set the container of job {}", job_id);
  auto r = exec(what, "UPDATE jobs SET container_id = $1 WHERE id = $2",
                Params().text(container_id).text(job_id));
  require_job(r, what);
}

void PostgresStore::finish_job(const JobRecord& f) {
  const std::string what = fmt::format("record the result of job {}", f.id);
  Params p;
  p.text(f.status)
      .text(f.error_type)
      .text(f.message)
      .opt_i64(f.exit_code ? std::optional<std::int64_t>(*f.exit_code) : std::nullopt)
      .opt_i64(f.container_exit_code)
      .time(f.finished_at.value_or(logging::now_utc()))
      .text(f.outputs.empty() ? std::string_view("{}") : std::string_view(f.outputs))
      .text(f.metrics.empty() ? std::string_view("[]") : std::string_view(f.metrics))
      .opt_time(f.started_at)
      .text(f.container_id)
      .text(f.id)
      .text(f.events_missing)
      .text(f.events_missing_reason);
  auto r = exec(what,
                "UPDATE jobs SET status = $1, error_type = $2, message = $3, exit_code = $4, "
                "container_exit_code = $5, finished_at = $6, outputs = $7, metrics = $8, "
                "lease_until = NULL, started_at = coalesce(started_at, $9), "
                "container_id = coalesce(nullif($10, ''), container_id), events_missing = $12, "
                "events_missing_reason = $13 WHERE id = $11",
                p);
  require_job(r, what);
}

std::optional<JobRecord> PostgresStore::find_job(std::string_view id_or_prefix) {
  const std::string what = fmt::format("find job {}", id_or_prefix);
  static const std::string exact =
      fmt::format("SELECT {} FROM jobs WHERE id = $1", schema::job_columns());
  auto r = exec(what, exact, Params().text(id_or_prefix));
  if (PQntuples(r.get()) > 0) return job_from(r.get(), 0);
  // The ids starting with the prefix (one more than are shown, to say "and more").
  const std::string limit = std::to_string(JobIdPrefixError::kPrefixCandidates + 1);
  if (const auto upper = schema::prefix_upper_bound(id_or_prefix)) {
    static const std::string range =
        "SELECT id FROM jobs WHERE id >= $1 AND id < $2 ORDER BY id LIMIT " + limit;
    r = exec(what, range, Params().text(id_or_prefix).text(*upper));
  } else {
    static const std::string scan =
        "SELECT id FROM jobs WHERE starts_with(id, $1) ORDER BY id LIMIT " + limit;
    r = exec(what, scan, Params().text(id_or_prefix));
  }
  const int rows = PQntuples(r.get());
  std::vector<std::string> found;
  found.reserve(static_cast<std::size_t>(rows));
  for (int row = 0; row < rows; ++row) found.push_back(cell(r.get(), row, 0));
  if (found.empty()) return std::nullopt;
  if (found.size() > 1 || id_or_prefix.size() < schema::kMinIdPrefix)
    throw JobIdPrefixError(id_or_prefix, std::move(found));
  r = exec(what, exact, Params().text(found.front()));
  if (PQntuples(r.get()) == 0) return std::nullopt;  // removed in between
  return job_from(r.get(), 0);
}

std::vector<JobRecord> PostgresStore::list_jobs(const JobFilter& filter) {
  std::string sql = fmt::format("SELECT {} FROM jobs WHERE true", schema::job_columns());
  Params p;
  int n = 0;
  if (filter.namespace_name) {
    const auto r = schema::namespace_range(*filter.namespace_name);
    sql += fmt::format(
        " AND (namespace_name = ${} OR (namespace_name >= ${} AND namespace_name < ${}))", n + 1,
        n + 2, n + 3);
    n += 3;
    p.text(r.exact).text(r.children_from).text(r.children_below);
  }
  if (filter.status) {
    sql += fmt::format(" AND status = ${}", ++n);
    p.text(*filter.status);
  }
  sql += fmt::format(" ORDER BY created_at DESC, id DESC LIMIT ${}", ++n);
  p.i64(to_i64(filter.limit));
  return jobs_from(exec("list jobs", sql, p).get());
}

// --- events -------------------------------------------------------------------------------------

void PostgresStore::append_blocks(const std::vector<EventBlock>& given) {
  const auto repacked = packed_for_storing(given);
  const std::vector<EventBlock>& blocks = repacked ? *repacked : given;
  if (blocks.empty()) return;
  const std::string what =
      fmt::format("store {} event blocks of job {}", blocks.size(), blocks.front().job_id);
  std::map<std::string_view, std::uint64_t> highest;
  Transaction tx(*this, what);
  std::size_t i = 0;
  while (i < blocks.size()) {
    // One multi-row INSERT per chunk: one round trip for hundreds of blocks.
    Params p;
    std::string sql =
        "INSERT INTO event_blocks (job_id, first_sequence, last_sequence, min_time, max_time, "
        "level_mask, events, packed, event_count) VALUES ";
    std::size_t rows = 0;
    std::size_t bytes = 0;
    for (; i < blocks.size() && rows < kInsertRows && (rows == 0 || bytes < kInsertBytes); ++i) {
      const auto& b = blocks[i];
      sql += fmt::format("{}({})", rows > 0 ? ", " : "", placeholders(p.count() + 1, 9));
      p.text(b.job_id)
          .i64(static_cast<std::int64_t>(b.first_sequence))
          .i64(static_cast<std::int64_t>(b.last_sequence))
          .time(b.min_time)
          .time(b.max_time)
          .i32(static_cast<std::int32_t>(b.level_mask))
          .text_ref(b.events)
          .bytes_ref_or_null(b.packed)
          .opt_i64(b.event_count > 0 ? std::optional<std::int64_t>(b.event_count) : std::nullopt);
      ++rows;
      bytes += b.events.size() + b.packed.size();
      auto& h = highest[b.job_id];
      if (b.last_sequence > h) h = b.last_sequence;
    }
    exec(what, sql, p);
  }
  for (const auto& [job_id, last] : highest)
    exec(what, "UPDATE jobs SET events_stored = greatest(events_stored, $1) WHERE id = $2",
         Params().i64(static_cast<std::int64_t>(last)).text(job_id));
  tx.commit();
}

std::vector<EventBlock> PostgresStore::job_blocks(std::string_view job_id,
                                                  std::uint64_t after_sequence, std::size_t limit) {
  static const std::string sql = fmt::format(
      "SELECT {} FROM event_blocks WHERE job_id = $1 AND last_sequence > $2 "
      "ORDER BY first_sequence LIMIT $3",
      schema::kBlockColumns);
  return blocks_from(
      exec(fmt::format("read the events of job {}", job_id), sql,
           Params().text(job_id).i64(static_cast<std::int64_t>(after_sequence)).i64(to_i64(limit)))
          .get());
}

std::vector<EventBlock> PostgresStore::blocks_in_time(
    const EventCursor& cursor, EventTime until, const std::optional<std::string>& namespace_name,
    logging::Level min_level, BlockPage page, std::size_t limit) {
  std::string sql = fmt::format(
      "SELECT {} FROM event_blocks WHERE max_time >= $1 AND min_time < $2 "
      "AND (level_mask & $3) <> 0 AND (min_time, row_id) > ($4, $5)",
      schema::kBlockColumns);
  Params p;
  p.time(cursor.time)
      .time(until)
      .i32(static_cast<std::int32_t>(schema::level_mask_at_least(min_level)))
      .time(page.after_min_time)
      .i64(page.after_row_id)
      .i64(to_i64(limit));
  if (namespace_name) {
    const auto r = schema::namespace_range(*namespace_name);
    sql +=
        " AND job_id IN (SELECT id FROM jobs WHERE namespace_name = $7 "
        "OR (namespace_name >= $8 AND namespace_name < $9))";
    p.text(r.exact).text(r.children_from).text(r.children_below);
  }
  sql += " ORDER BY min_time, row_id LIMIT $6";
  return blocks_from(exec("read event blocks by time", sql, p).get());
}

std::uint64_t PostgresStore::delete_blocks_through(
    const EventCursor& cursor, const std::optional<std::string>& namespace_name) {
  // A block's greatest event id is that of its last event: when it is <= cursor.id, every event
  // of the block at cursor.time was read.
  std::string sql =
      "WITH deleted AS (DELETE FROM event_blocks WHERE (max_time < $1 OR (max_time = $1 AND "
      "(job_id || '-' || repeat('0', 12 - length(last_sequence::text)) || last_sequence::text) "
      "COLLATE \"C\" <= $2))";
  Params p;
  p.time(cursor.time).text(cursor.id);
  if (namespace_name) {
    const auto r = schema::namespace_range(*namespace_name);
    sql +=
        " AND job_id IN (SELECT id FROM jobs WHERE namespace_name = $3 "
        "OR (namespace_name >= $4 AND namespace_name < $5))";
    p.text(r.exact).text(r.children_from).text(r.children_below);
  }
  // One statement: the blocks go and each job's removal is recorded atomically.
  sql += fmt::format(
      " RETURNING job_id, first_sequence, last_sequence, {} AS n), "
      "spans AS (SELECT job_id, min(first_sequence) AS f, max(last_sequence) AS l, sum(n) AS n "
      "FROM deleted GROUP BY job_id), "
      "recorded AS (INSERT INTO event_removals (job_id, removed_by, removed_at, events, "
      "first_sequence, last_sequence) SELECT job_id, '{}', {}, n, f, l FROM spans) "
      "SELECT coalesce(sum(n), 0)::bigint FROM spans",
      schema::kPostgresBlockEvents, schema::removed_by_name(schema::RemovedBy::ship),
      micros(logging::now_utc()));
  auto r = exec("delete shipped event blocks", sql, p);
  return static_cast<std::uint64_t>(cell_i64(r.get(), 0, 0));
}

std::vector<EventRemoval> PostgresStore::event_removals(std::string_view job_id) {
  auto r = exec(fmt::format("read the event removals of job {}", job_id),
                "SELECT job_id, removed_by, removed_at, events, first_sequence, last_sequence "
                "FROM event_removals WHERE job_id = $1 ORDER BY row_id",
                Params().text(job_id));
  std::vector<EventRemoval> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const PGresult* res = r.get();
    out.push_back(EventRemoval{cell(res, i, 0), cell(res, i, 1), from_micros(cell_i64(res, i, 2)),
                               static_cast<std::uint64_t>(cell_i64(res, i, 3)),
                               static_cast<std::uint64_t>(cell_i64(res, i, 4)),
                               static_cast<std::uint64_t>(cell_i64(res, i, 5))});
  }
  return out;
}

// --- retention ----------------------------------------------------------------------------------

std::vector<JobRecord> PostgresStore::prunable_jobs(const PruneFilter& filter) {
  std::string sql = fmt::format(
      "SELECT {} FROM jobs WHERE status IN {} AND coalesce(finished_at, created_at) < $1",
      schema::job_columns(), schema::kFinalStatusesSql);
  Params p;
  p.time(filter.finished_before).i64(to_i64(filter.limit));
  int n = 2;
  if (filter.namespace_name) {
    const auto r = schema::namespace_range(*filter.namespace_name);
    sql += fmt::format(
        " AND (namespace_name = ${} OR (namespace_name >= ${} AND namespace_name < ${}))", n + 1,
        n + 2, n + 3);
    n += 3;
    p.text(r.exact).text(r.children_from).text(r.children_below);
  }
  if (filter.status) {
    sql += fmt::format(" AND status = ${}", ++n);
    p.text(*filter.status);
  }
  if (filter.only_with_events)
    sql += " AND EXISTS (SELECT 1 FROM event_blocks AS b WHERE b.job_id = jobs.id)";
  sql += " ORDER BY coalesce(finished_at, created_at), id LIMIT $2";
  return jobs_from(exec("list jobs to prune", sql, p).get());
}

// Blocks go in batches, each its own short statement (autocommit): row locks on the deleted
// blocks only, so appends of running jobs never wait; then the job (or its removal record) in
// one transaction.
RemovedCounts PostgresStore::delete_jobs(const std::vector<std::string>& job_ids, bool keep_jobs) {
  constexpr int kBlocksPerBatch = 200;
  static const std::string batch_sql = fmt::format(
      "WITH deleted AS (DELETE FROM event_blocks WHERE row_id IN (SELECT row_id FROM event_blocks "
      "WHERE job_id = $1 ORDER BY row_id LIMIT {}) RETURNING first_sequence, last_sequence, {} AS "
      "n) SELECT count(*), coalesce(min(first_sequence), 0), coalesce(max(last_sequence), 0), "
      "coalesce(sum(n), 0)::bigint FROM deleted",
      kBlocksPerBatch, schema::kPostgresBlockEvents);
  RemovedCounts counts;
  for (const auto& id : job_ids) {
    const std::string what = fmt::format("prune job {}", id);
    schema::RemovalSpans spans;
    for (;;) {
      auto r = exec(what, batch_sql, Params().text(id));
      const auto blocks = cell_i64(r.get(), 0, 0);
      if (blocks == 0) break;
      counts.blocks += static_cast<std::uint64_t>(blocks);
      spans[id].add(static_cast<std::uint64_t>(cell_i64(r.get(), 0, 1)),
                    static_cast<std::uint64_t>(cell_i64(r.get(), 0, 2)),
                    static_cast<std::uint64_t>(cell_i64(r.get(), 0, 3)));
    }
    if (const auto it = spans.find(id); it != spans.end()) counts.events += it->second.events;
    Transaction tx(*this, what);
    if (keep_jobs) {
      for (const auto& [job, span] : spans)
        exec(what,
             "INSERT INTO event_removals (job_id, removed_by, removed_at, events, first_sequence, "
             "last_sequence) VALUES ($1, $2, $3, $4, $5, $6)",
             Params()
                 .text(job)
                 .text(schema::removed_by_name(schema::RemovedBy::prune))
                 .time(logging::now_utc())
                 .i64(static_cast<std::int64_t>(span.events))
                 .i64(static_cast<std::int64_t>(span.first_sequence))
                 .i64(static_cast<std::int64_t>(span.last_sequence)));
    } else {
      // Everything kept about the job goes with it; component state (the component's, not the
      // job's) stays.
      for (const char* table : {"event_removals", "job_usage", "job_runs"})
        exec(what, fmt::format("DELETE FROM {} WHERE job_id = $1", table), Params().text(id));
      auto r = exec(what,
                    "WITH d AS (DELETE FROM jobs WHERE id = $1 RETURNING 1) "
                    "SELECT count(*) FROM d",
                    Params().text(id));
      counts.jobs += static_cast<std::uint64_t>(cell_i64(r.get(), 0, 0));
    }
    tx.commit();
  }
  return counts;
}

std::optional<std::uint64_t> PostgresStore::size_bytes() {
  auto r = exec("read the store's size",
                "SELECT (coalesce(pg_total_relation_size(to_regclass('jobs')), 0) + "
                "coalesce(pg_total_relation_size(to_regclass('event_blocks')), 0) + "
                "coalesce(pg_total_relation_size(to_regclass('event_removals')), 0) + "
                "coalesce(pg_total_relation_size(to_regclass('kv')), 0))::bigint");
  return static_cast<std::uint64_t>(cell_i64(r.get(), 0, 0));
}

// --- key-value ----------------------------------------------------------------------------------

std::optional<std::string> PostgresStore::read_keyed(schema::KeyedText table,
                                                     std::string_view key) {
  auto r = exec("read " + schema::keyed_text_what(table, key),
                schema::keyed_text_select(table, '$'), Params().text(key));
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return cell(r.get(), 0, 0);
}

void PostgresStore::write_keyed(schema::KeyedText table, std::string_view key,
                                std::string_view text) {
  exec("store " + schema::keyed_text_what(table, key), schema::keyed_text_upsert(table, '$'),
       Params().text(key).text(text).time(logging::now_utc()));
}

std::optional<std::string> PostgresStore::get_value(std::string_view key) {
  return read_keyed(schema::KeyedText::kv, key);
}

void PostgresStore::put_value(std::string_view key, std::string_view value) {
  write_keyed(schema::KeyedText::kv, key, value);
}

}  // namespace postgres_backend

std::string redact_url_password(std::string_view url) {
  std::string out(url);
  // user:password@ in the authority
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto end = out.find_first_of("/?#", start);
    const auto authority_end = end == std::string::npos ? out.size() : end;
    const auto at = out.rfind('@', authority_end);
    if (at != std::string::npos && at >= start) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... among the parameters
  for (std::size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&' && out[pos - 1] != ' ') continue;
    const auto value = pos + 9;
    const auto end = out.find_first_of("& ", value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

std::unique_ptr<Store> open_postgres_store(std::string_view url) {
  return std::make_unique<postgres_backend::PostgresStore>(std::string(url));
}

}  // namespace runner::store

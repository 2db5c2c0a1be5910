// The PostgreSQL backend (postgres_store.hpp). One PGconn per Store; every statement goes
// through PQexecParams with typed parameters (strings in binary format with their length, so
// nothing is ever quoted into SQL and the events text is not copied), results in text format.
#include "store/postgres_store.hpp"

#include "store/block_codec.hpp"
#include "store/schema.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace runner::store {

namespace {

using schema::from_micros;
using schema::micros;

struct ConnClose {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct ResultClear {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ConnHandle = std::unique_ptr<PGconn, ConnClose>;
using ResultHandle = std::unique_ptr<PGresult, ResultClear>;

// Type OIDs (pg_type.h is a server header).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt4Oid = 23;
constexpr Oid kByteaOid = 17;
constexpr Oid kTextOid = 25;
constexpr Oid kTextArrayOid = 1009;

// The key of the advisory lock the migration takes (ASCII "runnerdb").
constexpr std::int64_t kMigrationLockKey = 0x72756e6e65726462;

// Now on the server, in microseconds since the epoch: leases compare against one clock.
constexpr std::string_view kServerNow = "(extract(epoch from clock_timestamp()) * 1000000)::bigint";

// Rows per multi-row INSERT of event blocks, and bytes of events text per statement.
constexpr std::size_t kInsertRows = 500;
constexpr std::size_t kInsertBytes = 16u << 20;

// libpq's messages end with a newline and may span lines: one line, for one-line errors.
std::string trim(std::string_view s) {
  std::string out;
  bool space = false;
  for (const char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

void ignore_notice(void*, const char*) {}

// Statement parameters. Strings are sent in binary format with their length (no quoting, no
// NUL-termination needed, no copy for text_ref); numbers and arrays as text.
class Params {
 public:
  Params& text(std::string_view v) {
    owned_.emplace_back(v);
    return add(kTextOid, owned_.back().data(), owned_.back().size(), 1);
  }
  // No copy: `v` must outlive the statement (the hot path's events text).
  Params& text_ref(const std::string& v) { return add(kTextOid, v.data(), v.size(), 1); }
  // Bytes (a bytea) in binary format, no copy: `v` must outlive the statement. Empty: NULL.
  Params& bytes_ref_or_null(const std::string& v) {
    if (v.empty()) return add(kByteaOid, nullptr, 0, 1);
    return add(kByteaOid, v.data(), v.size(), 1);
  }
  Params& i64(std::int64_t v) {
    owned_.push_back(std::to_string(v));
    return add(kInt8Oid, owned_.back().c_str(), 0, 0);
  }
  Params& i32(std::int32_t v) {
    owned_.push_back(std::to_string(v));
    return add(kInt4Oid, owned_.back().c_str(), 0, 0);
  }
  Params& time(EventTime t) { return i64(micros(t)); }
  Params& opt_time(const std::optional<EventTime>& t) {
    return t ? time(*t) : add(kInt8Oid, nullptr, 0, 0);
  }
  Params& opt_i64(const std::optional<std::int64_t>& v) {
    return v ? i64(*v) : add(kInt8Oid, nullptr, 0, 0);
  }
  Params& boolean(bool v) { return add(kBoolOid, v ? "t" : "f", 0, 0); }
  // A text[] as an array literal: {"a","b\"c"}.
  Params& text_array(const std::vector<std::string>& items) {
    std::string literal = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) literal += ',';
      literal += '"';
      for (const char c : items[i]) {
        if (c == '"' || c == '\\') literal += '\\';
        literal += c;
      }
      literal += '"';
    }
    literal += '}';
    owned_.push_back(std::move(literal));
    return add(kTextArrayOid, owned_.back().c_str(), 0, 0);
  }

  int count() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& add(Oid type, const char* value, std::size_t length, int format) {
    types_.push_back(type);
    values_.push_back(value);
    lengths_.push_back(static_cast<int>(length));
    formats_.push_back(format);
    return *this;
  }

  std::deque<std::string> owned_;  // a deque: elements never move as it grows
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// Text-format result cells.
std::string cell(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}
bool is_null(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) != 0;
}
std::int64_t cell_i64(const PGresult* r, int row, int col) {
  return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}
bool cell_bool(const PGresult* r, int row, int col) {
  return PQgetvalue(r, row, col)[0] == 't';
}

// A job row of a result (a SELECT of schema::job_columns()) through the shared mapping.
class ResultJobRow final : public schema::JobRow {
 public:
  ResultJobRow(const PGresult* r, int row) : r_(r), row_(row) {}
  bool is_null(schema::JobColumn c) const override {
    return runner::store::is_null(r_, row_, index(c));
  }
  std::int64_t integer(schema::JobColumn c) const override { return cell_i64(r_, row_, index(c)); }
  bool boolean(schema::JobColumn c) const override { return cell_bool(r_, row_, index(c)); }
  std::string text(schema::JobColumn c) const override { return cell(r_, row_, index(c)); }

 private:
  static int index(schema::JobColumn c) { return static_cast<int>(c); }
  const PGresult* r_;
  int row_;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A bytea cell in text format: "\x" and two hex digits a byte (the server's default
// bytea_output). Empty for NULL; a cell in any other form is returned as it is, which the block
// codec then refuses as corrupt (a clear error, not a wrong event).
std::string cell_bytea(const PGresult* r, int row, int col) {
  if (is_null(r, row, col)) return {};
  const char* p = PQgetvalue(r, row, col);
  const auto n = static_cast<std::size_t>(PQgetlength(r, row, col));
  if (n < 2 || p[0] != '\\' || p[1] != 'x' || n % 2 != 0) return std::string(p, n);
  std::string out((n - 2) / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(p[2 + 2 * i]);
    const int lo = hex_digit(p[3 + 2 * i]);
    if (hi < 0 || lo < 0) return std::string(p, n);
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

JobRecord job_from(const PGresult* r, int row) {
  return schema::job_from_row(ResultJobRow(r, row));
}

EventBlock block_from(const PGresult* r, int row) {
  EventBlock b;
  b.row_id = cell_i64(r, row, 0);
  b.job_id = cell(r, row, 1);
  b.first_sequence = static_cast<std::uint64_t>(cell_i64(r, row, 2));
  b.last_sequence = static_cast<std::uint64_t>(cell_i64(r, row, 3));
  b.min_time = from_micros(cell_i64(r, row, 4));
  b.max_time = from_micros(cell_i64(r, row, 5));
  b.level_mask = static_cast<std::uint32_t>(cell_i64(r, row, 6));
  b.events = cell(r, row, 7);
  b.packed = cell_bytea(r, row, 8);
  b.event_count = static_cast<std::uint64_t>(cell_i64(r, row, 9));
  return b;
}

std::vector<JobRecord> jobs_from(const PGresult* r) {
  std::vector<JobRecord> jobs;
  jobs.reserve(static_cast<std::size_t>(PQntuples(r)));
  for (int i = 0; i < PQntuples(r); ++i) jobs.push_back(job_from(r, i));
  return jobs;
}

std::vector<EventBlock> blocks_from(const PGresult* r) {
  std::vector<EventBlock> blocks;
  blocks.reserve(static_cast<std::size_t>(PQntuples(r)));
  for (int i = 0; i < PQntuples(r); ++i) blocks.push_back(block_from(r, i));
  return blocks;
}

std::int64_t to_i64(std::size_t n) {
  return n > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(n);
}

// "$1, $2, ..., $n" starting at `first`.
std::string placeholders(int first, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += fmt::format("{}${}", i > 0 ? ", " : "", first + i);
  return s;
}

// The parameters of an INSERT of schema::job_columns(), in order.
class JobParamList final : public schema::JobParams {
 public:
  explicit JobParamList(Params& p) : p_(p) {}
  void text(std::string_view v) override { p_.text(v); }
  void integer(std::optional<std::int64_t> v) override { p_.opt_i64(v); }
  void boolean(bool v) override { p_.boolean(v); }

 private:
  Params& p_;
};

void add_job_params(Params& p, const JobRecord& job, std::string_view status) {
  JobParamList list(p);
  schema::add_job_params(job, status, list);
}

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const std::string& url);

  std::string describe() const override { return described_; }

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
  std::uint64_t reclaim_space(std::uint64_t) override { return 0; }
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

 private:
  friend class Transaction;

  // One statement with parameters; throws StoreError naming `what` unless it succeeded.
  ResultHandle exec(std::string_view what, const std::string& sql, const Params& params = {});
  // Statements without parameters, possibly several (the simple query protocol).
  ResultHandle exec_script(std::string_view what, const std::string& sql);
  ResultHandle checked(std::string_view what, PGresult* raw);
  [[noreturn]] void fail(std::string_view what, const PGresult* result) const;
  void ensure_connected();
  void migrate();
  // The versions in schema_migrations (none without the table), newest last.
  std::vector<int> schema_versions();
  std::uint64_t affected(const ResultHandle& r) const {
    return std::strtoull(PQcmdTuples(r.get()), nullptr, 10);
  }
  void require_job(const ResultHandle& r, std::string_view what) const {
    if (affected(r) == 0) throw StoreError(fmt::format("{}: {}: no such job", described_, what));
  }
  bool drain_notifications();

  ConnHandle conn_;
  std::string described_;
  bool listening_ = false;
  int transaction_depth_ = 0;
};

// BEGIN ... COMMIT; rolled back unless committed.
class Transaction {
 public:
  Transaction(PostgresStore& store, std::string_view what) : store_(store), what_(what) {
    store_.exec_script(what_, "BEGIN");
    ++store_.transaction_depth_;
  }
  ~Transaction() {
    --store_.transaction_depth_;
    if (!done_) PQclear(PQexec(store_.conn_.get(), "ROLLBACK"));
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    done_ = true;  // a failed COMMIT ends the transaction too
    store_.exec_script(what_, "COMMIT");
  }

 private:
  PostgresStore& store_;
  std::string what_;
  bool done_ = false;
};

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

std::optional<std::string> PostgresStore::get_value(std::string_view key) {
  auto r = exec(fmt::format("read the value of {}", key), "SELECT value FROM kv WHERE key = $1",
                Params().text(key));
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return cell(r.get(), 0, 0);
}

void PostgresStore::put_value(std::string_view key, std::string_view value) {
  exec(fmt::format("store the value of {}", key),
       "INSERT INTO kv (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE "
       "SET value = excluded.value, updated_at = excluded.updated_at",
       Params().text(key).text(value).time(logging::now_utc()));
}

// --- component state and usage -------------------------------------------------------------------

namespace {
constexpr const char* kStateColumns =
    "component_id, config_id, config_row_id, removed, state, job_id, written_at";
std::vector<StateWrite> states_from(const PGresult* r) {
  std::vector<StateWrite> out;
  for (int row = 0; row < PQntuples(r); ++row) {
    StateWrite w;
    w.key = {cell(r, row, 0), cell(r, row, 1), cell(r, row, 2)};
    w.removed = cell_bool(r, row, 3);
    w.state = cell(r, row, 4);
    w.job_id = cell(r, row, 5);
    w.time = from_micros(cell_i64(r, row, 6));
    out.push_back(std::move(w));
  }
  return out;
}
}  // namespace

void PostgresStore::write_state(const StateWrite& w) {
  const std::string what = fmt::format("save the state of {}", w.key.component_id);
  Transaction tx(*this, what);
  Params key;
  key.text(w.key.component_id).text(w.key.config_id).text(w.key.row_id);
  exec(what,
       fmt::format("INSERT INTO component_state_history ({}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   kStateColumns),
       Params()
           .text(w.key.component_id)
           .text(w.key.config_id)
           .text(w.key.row_id)
           .boolean(w.removed)
           .text(w.state)
           .text(w.job_id)
           .time(w.time));
  if (w.removed) {
    exec(what,
         "DELETE FROM component_state WHERE component_id = $1 AND config_id = $2 AND "
         "config_row_id = $3",
         key);
  } else {
    exec(what,
         "INSERT INTO component_state (component_id, config_id, config_row_id, state, job_id, "
         "written_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (component_id, config_id, "
         "config_row_id) DO UPDATE SET state = excluded.state, job_id = excluded.job_id, "
         "written_at = excluded.written_at",
         Params()
             .text(w.key.component_id)
             .text(w.key.config_id)
             .text(w.key.row_id)
             .text(w.state)
             .text(w.job_id)
             .time(w.time));
  }
  tx.commit();
}

std::optional<StateWrite> PostgresStore::read_state(const StateKey& key) {
  auto r = exec(fmt::format("read the state of {}", key.component_id),
                "SELECT component_id, config_id, config_row_id, false, state, job_id, written_at "
                "FROM component_state WHERE component_id = $1 AND config_id = $2 AND "
                "config_row_id = $3",
                Params().text(key.component_id).text(key.config_id).text(key.row_id));
  auto found = states_from(r.get());
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::vector<StateWrite> PostgresStore::state_history(const StateKey& key, std::size_t limit) {
  auto r = exec(fmt::format("read the state history of {}", key.component_id),
                fmt::format("SELECT {} FROM component_state_history WHERE component_id = $1 AND "
                            "config_id = $2 AND config_row_id = $3 ORDER BY id DESC LIMIT $4",
                            kStateColumns),
                Params()
                    .text(key.component_id)
                    .text(key.config_id)
                    .text(key.row_id)
                    .i64(static_cast<std::int64_t>(limit)));
  return states_from(r.get());
}

std::vector<StateWrite> PostgresStore::job_state_writes(std::string_view job_id) {
  auto r = exec(fmt::format("read the state writes of job {}", job_id),
                fmt::format("SELECT {} FROM component_state_history WHERE job_id = $1 ORDER BY id",
                            kStateColumns),
                Params().text(job_id));
  return states_from(r.get());
}

void PostgresStore::put_usage(std::string_view job_id, std::string_view usage) {
  exec(fmt::format("store the usage of job {}", job_id),
       "INSERT INTO job_usage (job_id, usage, recorded_at) VALUES ($1, $2, $3) ON CONFLICT "
       "(job_id) DO UPDATE SET usage = excluded.usage, recorded_at = excluded.recorded_at",
       Params().text(job_id).text(usage).time(logging::now_utc()));
}

std::optional<std::string> PostgresStore::job_usage(std::string_view job_id) {
  auto r = exec(fmt::format("read the usage of job {}", job_id),
                "SELECT usage FROM job_usage WHERE job_id = $1", Params().text(job_id));
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return cell(r.get(), 0, 0);
}

void PostgresStore::put_job_runs(std::string_view job_id, std::string_view runs) {
  exec(fmt::format("store the runs of job {}", job_id),
       "INSERT INTO job_runs (job_id, runs, recorded_at) VALUES ($1, $2, $3) ON CONFLICT "
       "(job_id) DO UPDATE SET runs = excluded.runs, recorded_at = excluded.recorded_at",
       Params().text(job_id).text(runs).time(logging::now_utc()));
}

std::optional<std::string> PostgresStore::job_runs(std::string_view job_id) {
  auto r = exec(fmt::format("read the runs of job {}", job_id),
                "SELECT runs FROM job_runs WHERE job_id = $1", Params().text(job_id));
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return cell(r.get(), 0, 0);
}

// --- queue --------------------------------------------------------------------------------------

void PostgresStore::enqueue(const JobRecord& job) {
  // One statement: the notification goes out when (and only if) the job is committed.
  static const std::string sql = fmt::format(
      "WITH inserted AS (INSERT INTO jobs ({}) VALUES ({}) RETURNING 1) "
      "SELECT pg_notify('{}', '') FROM inserted",
      schema::job_columns(), placeholders(1, schema::kJobColumnCount), kJobsChannel);
  Params p;
  add_job_params(p, job, kStatusWaiting);
  exec("enqueue job " + job.id, sql, p);
}

std::optional<JobRecord> PostgresStore::claim_job(std::string_view worker_id,
                                                  std::chrono::milliseconds lease) {
  // SKIP LOCKED: concurrent claimers pass over each other's candidate rows instead of waiting,
  // and the locked row is re-checked, so a job is never claimed twice.
  static const std::string waiting = fmt::format(
      "UPDATE jobs SET status = {{processing}}, worker_id = $1, lease_until = {0} + $2, "
      "attempts = attempts + 1 WHERE id = (SELECT id FROM jobs WHERE status = {{waiting}} "
      "ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING {1}",
      kServerNow, schema::job_columns());
  static const std::string expired = fmt::format(
      "UPDATE jobs SET worker_id = $1, lease_until = {0} + $2, attempts = attempts + 1 "
      "WHERE id = (SELECT id FROM jobs WHERE status IN ({{processing}}, {{terminating}}) "
      "AND lease_until < {0} AND attempts < {2} ORDER BY lease_until LIMIT 1 "
      "FOR UPDATE SKIP LOCKED) RETURNING {1}",
      kServerNow, schema::job_columns(), kMaxAttempts);
  const std::int64_t lease_us =
      std::chrono::duration_cast<std::chrono::microseconds>(lease).count();
  for (const auto* sql : {&waiting, &expired}) {
    auto r = exec("claim a job", *sql, Params().text(worker_id).i64(lease_us));
    if (PQntuples(r.get()) > 0) return job_from(r.get(), 0);
  }
  return std::nullopt;
}

Store::Heartbeat PostgresStore::heartbeat(std::string_view worker_id,
                                          const std::vector<std::string>& job_ids,
                                          std::chrono::milliseconds lease) {
  Heartbeat result;
  if (job_ids.empty()) return result;
  static const std::string sql = fmt::format(
      "UPDATE jobs SET lease_until = {} + $3 WHERE id = ANY($1) AND worker_id = $2 "
      "AND status IN ({{processing}}, {{terminating}}) RETURNING id, cancel_requested",
      kServerNow);
  const std::int64_t lease_us =
      std::chrono::duration_cast<std::chrono::microseconds>(lease).count();
  auto r =
      exec("extend job leases", sql, Params().text_array(job_ids).text(worker_id).i64(lease_us));
  std::map<std::string, bool> held;
  for (int i = 0; i < PQntuples(r.get()); ++i) held[cell(r.get(), i, 0)] = cell_bool(r.get(), i, 1);
  for (const auto& id : job_ids) {
    const auto it = held.find(id);
    if (it == held.end())
      result.lost.push_back(id);
    else if (it->second)
      result.cancel_requested.push_back(id);
  }
  return result;
}

std::optional<JobRecord> PostgresStore::request_cancel(std::string_view id_or_prefix) {
  const auto found = find_job(id_or_prefix);
  if (!found) return std::nullopt;
  static const std::string sql = fmt::format(
      "UPDATE jobs SET "
      "status = CASE WHEN status IN ({{waiting}}, {{created}}) THEN {{cancelled}} "
      "WHEN status = {{processing}} THEN {{terminating}} ELSE status END, "
      "finished_at = CASE WHEN status IN ({{waiting}}, {{created}}) THEN $1 ELSE finished_at END, "
      "cancel_requested = cancel_requested OR status IN ({{processing}}, {{terminating}}) "
      "WHERE id = $2 RETURNING {}",
      schema::job_columns());
  auto r = exec(fmt::format("cancel job {}", found->id), sql,
                Params().time(logging::now_utc()).text(found->id));
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return job_from(r.get(), 0);
}

std::vector<JobRecord> PostgresStore::end_exhausted_jobs() {
  static const std::string sql = fmt::format(
      "UPDATE jobs SET status = {{error}}, error_type = 'internal', message = $1, exit_code = $2, "
      "finished_at = {0}, lease_until = NULL WHERE status IN ({{processing}}, {{terminating}}) "
      "AND lease_until < {0} AND attempts >= $3 RETURNING {1}",
      kServerNow, schema::job_columns());
  return jobs_from(
      exec("end jobs out of attempts", sql,
           Params().text(schema::exhausted_job_message()).i64(kExitInternal).i64(kMaxAttempts))
          .get());
}

void PostgresStore::release_job(std::string_view job_id, std::string_view worker_id) {
  // A job whose cancel was requested is not queued again: it ends cancelled.
  // Like enqueue, one statement that also wakes idle workers for the job it puts back.
  static const std::string sql =
      std::string("WITH released AS (") +
      "UPDATE jobs SET "
      "status = CASE WHEN status = {terminating} THEN {cancelled} ELSE {waiting} END, "
      "finished_at = CASE WHEN status = {terminating} THEN $1 ELSE finished_at END, "
      "worker_id = '', lease_until = NULL, "
      // Back in the queue it is a new job again: the next claim must not take it for a
      // take-over of a dead worker's container.
      "container_id = CASE WHEN status = {terminating} THEN container_id ELSE '' END, "
      "started_at = CASE WHEN status = {terminating} THEN started_at ELSE NULL END "
      "WHERE id = $2 AND worker_id = $3 AND status IN ({processing}, {terminating}) "
      "RETURNING status) SELECT pg_notify('" +
      std::string(kJobsChannel) + "', '') FROM released WHERE status = {waiting}";
  exec(fmt::format("release job {}", job_id), sql,
       Params().time(logging::now_utc()).text(job_id).text(worker_id));
}

bool PostgresStore::drain_notifications() {
  if (PQconsumeInput(conn_.get()) == 0)
    throw StoreError(
        fmt::format("{}: waiting for jobs: {}", described_, trim(PQerrorMessage(conn_.get()))));
  bool any = false;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    PQfreemem(n);
    any = true;
  }
  return any;
}

bool PostgresStore::wait_for_jobs(std::chrono::milliseconds timeout, int wake_fd) {
  using clock = std::chrono::steady_clock;
  if (!listening_) {
    exec_script("listen for jobs", fmt::format("LISTEN {}", kJobsChannel));
    listening_ = true;
  }
  // A wake request wins over notifications that came in meanwhile.
  if (wake_fd >= 0 && !schema::wait_readable(wake_fd, -1, std::chrono::milliseconds(0)))
    return false;
  if (drain_notifications()) return true;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return true;
    bool socket_ready = false;
    if (!schema::wait_readable(wake_fd, PQsocket(conn_.get()), left, &socket_ready)) return false;
    if (!socket_ready) return true;  // the timeout passed
    if (drain_notifications()) return true;
  }
}

}  // namespace

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
  return std::make_unique<PostgresStore>(std::string(url));
}

}  // namespace runner::store

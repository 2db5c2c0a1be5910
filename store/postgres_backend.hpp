// The PostgreSQL backend's own types (postgres_store.hpp is the public side): the connection
// (PostgresStore), statement parameters, result cells and row mappings, and a transaction. Only
// the backend's files include this: postgres_store.cpp (the connection, the schema, jobs,
// events, retention, key-value) and postgres_queue.cpp (component state, usage and the job
// queue), split by concern so that neither is a thousand lines.
#pragma once

#include "store/postgres_store.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace runner::store::postgres_backend {

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
inline std::string trim(std::string_view s) {
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

inline void ignore_notice(void*, const char*) {}

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
inline std::string cell(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}
inline bool is_null(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) != 0;
}
inline std::int64_t cell_i64(const PGresult* r, int row, int col) {
  return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}
inline bool cell_bool(const PGresult* r, int row, int col) {
  return PQgetvalue(r, row, col)[0] == 't';
}

// A job row of a result (a SELECT of schema::job_columns()) through the shared mapping.
class ResultJobRow final : public schema::JobRow {
 public:
  ResultJobRow(const PGresult* r, int row) : r_(r), row_(row) {}
  bool is_null(schema::JobColumn c) const override {
    return postgres_backend::is_null(r_, row_, index(c));
  }
  std::int64_t integer(schema::JobColumn c) const override { return cell_i64(r_, row_, index(c)); }
  bool boolean(schema::JobColumn c) const override { return cell_bool(r_, row_, index(c)); }
  std::string text(schema::JobColumn c) const override { return cell(r_, row_, index(c)); }

 private:
  static int index(schema::JobColumn c) { return static_cast<int>(c); }
  const PGresult* r_;
  int row_;
};

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A bytea cell in text format: "\x" and two hex digits a byte (the server's default
// bytea_output). Empty for NULL; a cell in any other form is returned as it is, which the block
// codec then refuses as corrupt (a clear error, not a wrong event).
inline std::string cell_bytea(const PGresult* r, int row, int col) {
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

inline JobRecord job_from(const PGresult* r, int row) {
  return schema::job_from_row(ResultJobRow(r, row));
}

inline EventBlock block_from(const PGresult* r, int row) {
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

inline std::vector<JobRecord> jobs_from(const PGresult* r) {
  std::vector<JobRecord> jobs;
  jobs.reserve(static_cast<std::size_t>(PQntuples(r)));
  for (int i = 0; i < PQntuples(r); ++i) jobs.push_back(job_from(r, i));
  return jobs;
}

inline std::vector<EventBlock> blocks_from(const PGresult* r) {
  std::vector<EventBlock> blocks;
  blocks.reserve(static_cast<std::size_t>(PQntuples(r)));
  for (int i = 0; i < PQntuples(r); ++i) blocks.push_back(block_from(r, i));
  return blocks;
}

inline std::int64_t to_i64(std::size_t n) {
  return n > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(n);
}

// "$1, $2, ..., $n" starting at `first`.
inline std::string placeholders(int first, int n) {
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

inline void add_job_params(Params& p, const JobRecord& job, std::string_view status) {
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
  // The one-text-per-key tables (kv, job_usage, job_runs: schema::KeyedText).
  std::optional<std::string> read_keyed(schema::KeyedText table, std::string_view key);
  void write_keyed(schema::KeyedText table, std::string_view key, std::string_view text);

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

}  // namespace runner::store::postgres_backend

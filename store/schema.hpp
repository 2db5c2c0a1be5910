// The store's schema, its versioned migrations, and the small pieces of SQL and conversion both
// backends share. Both backends have the same tables, columns and view; only the dialect
// differs (SQLite: INTEGER PRIMARY KEY, json_each; PostgreSQL: BIGSERIAL, BOOLEAN, COLLATE "C"
// keys, jsonb_array_elements). docs/store.md describes them for people.
//
// Migrations are applied in one transaction when a store is opened: every migration whose
// version has no row in schema_migrations, in order, each adding its row. A store that has them
// all is not written to; one with a version above latest_version() is refused.
#pragma once

#include "store/store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace runner::store::schema {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sqlite_sql;    // one or more statements
  std::string_view postgres_sql;  // one or more statements
};

std::span<const Migration> migrations();
int latest_version();
// The migrations whose versions `applied` (the schema_migrations rows) lacks, in list order:
// also one below the newest recorded, so that a store written by a build that had a later
// migration but not this one (two branches numbering theirs ahead) gets it too.
std::vector<Migration> pending_migrations(const std::vector<int>& applied);

// The error for a store written by a newer runner.
StoreError newer_schema_error(std::string_view store, int found_version);

// The message of a job end_exhausted_jobs() ends.
std::string exhausted_job_message();

// The statement that creates the version table (both dialects accept it).
inline constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL)";

// The jobs columns, in the order every SELECT and INSERT of a whole job uses: the one list from
// which the SQL column list, the row mapping and the insert parameters below are made, for both
// backends.
#define RUNNER_JOB_COLUMNS(X) \
  X(id)                       \
  X(component_id)             \
  X(namespace_name)           \
  X(status)                   \
  X(priority)                 \
  X(error_type)               \
  X(message)                  \
  X(exit_code)                \
  X(container_exit_code)      \
  X(created_at)               \
  X(started_at)               \
  X(finished_at)              \
  X(outputs)                  \
  X(metrics)                  \
  X(spec)                     \
  X(spec_dir)                 \
  X(worker_id)                \
  X(lease_until)              \
  X(cancel_requested)         \
  X(attempts)                 \
  X(container_id)             \
  X(events_stored)            \
  X(runner_host)              \
  X(runner_pid)               \
  X(events_missing)           \
  X(events_missing_reason)

#define RUNNER_JOB_COLUMN_VALUE(name) name,
enum class JobColumn : int { RUNNER_JOB_COLUMNS(RUNNER_JOB_COLUMN_VALUE) };
#undef RUNNER_JOB_COLUMN_VALUE
#define RUNNER_JOB_COLUMN_NAME(name) std::string_view(#name),
inline constexpr std::array kJobColumnNames{RUNNER_JOB_COLUMNS(RUNNER_JOB_COLUMN_NAME)};
#undef RUNNER_JOB_COLUMN_NAME
inline constexpr int kJobColumnCount = static_cast<int>(kJobColumnNames.size());

// "id, component_id, ...": the column list of kJobColumnNames.
const std::string& job_columns();

// One row of a SELECT of job_columns(), as a backend reads its cells.
class JobRow {
 public:
  virtual ~JobRow() = default;
  virtual bool is_null(JobColumn column) const = 0;
  virtual std::int64_t integer(JobColumn column) const = 0;
  virtual bool boolean(JobColumn column) const = 0;
  virtual std::string text(JobColumn column) const = 0;
};
JobRecord job_from_row(const JobRow& row);

// The parameters of an INSERT of job_columns(), in column order, as a backend binds them.
class JobParams {
 public:
  virtual ~JobParams() = default;
  virtual void text(std::string_view value) = 0;
  virtual void integer(std::optional<std::int64_t> value) = 0;  // nullopt: NULL
  virtual void boolean(bool value) = 0;
};
// `job` with status `status`; an unset created_at is now, empty outputs/metrics are {} and [].
void add_job_params(const JobRecord& job, std::string_view status, JobParams& params);

// `sql` with every {created}, {waiting}, {processing}, ... (the names of logging::JobStatus)
// replaced by that status as an SQL string literal, so that the queue's statements name their
// statuses through the enum; other text, other braces included, is left as it is.
std::string with_statuses(std::string_view sql);

// The event_blocks columns in the order every SELECT of a whole block uses.
inline constexpr std::string_view kBlockColumns =
    "row_id, job_id, first_sequence, last_sequence, min_time, max_time, level_mask, events, "
    "packed, coalesce(event_count, 0)";

// The number of events in a block, in SQL: the count written since version 3, or the length of
// the JSON array of a block written before (those are never packed).
inline constexpr std::string_view kSqliteBlockEvents =
    "coalesce(event_count, json_array_length(events))";
inline constexpr std::string_view kPostgresBlockEvents =
    "coalesce(event_count, json_array_length(events::json))";

// The tables that hold one text per key: kv (shipper offsets), job_usage and job_runs (issue 13).
// Their read and upsert statements, the same for both backends but for the placeholders
// (`placeholder`: '?' for SQLite's ?1, '$' for PostgreSQL's $1): key ?1, text ?2, time ?3.
enum class KeyedText { kv, usage, runs };
std::string keyed_text_select(KeyedText table, char placeholder);
std::string keyed_text_upsert(KeyedText table, char placeholder);
// For messages: "the value of KEY", "the usage of job KEY", "the runs of job KEY".
std::string keyed_text_what(KeyedText table, std::string_view key);

// Who removed a job's events (the event_removals table, version 3).
enum class RemovedBy { prune, ship };
std::string_view removed_by_name(RemovedBy by);

// The deleted blocks of one job, added up for its event_removals row.
struct RemovalSpan {
  std::uint64_t first_sequence = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t last_sequence = 0;
  std::uint64_t events = 0;
  void add(std::uint64_t first, std::uint64_t last, std::uint64_t count) {
    first_sequence = std::min(first_sequence, first);
    last_sequence = std::max(last_sequence, last);
    events += count;
  }
};
using RemovalSpans = std::map<std::string, RemovalSpan, std::less<>>;

// The final statuses, as an SQL list: what prune may select ({name}: filled from the enum's names
// by with_statuses, like every queue statement).
inline constexpr std::string_view kFinalStatusesSql =
    "({success}, {warning}, {error}, {cancelled}, {terminated})";

// Times are stored as integer microseconds since the Unix epoch (UTC).
inline std::int64_t micros(EventTime t) {
  return t.time_since_epoch().count();
}
inline EventTime from_micros(std::int64_t us) {
  return EventTime(std::chrono::microseconds(us));
}

// The level_mask bits of levels >= min_level (levels are 0..7).
std::int64_t level_mask_at_least(logging::Level min_level);

// Namespace `n` and its children ("n.x", "n.x.y") are namespace_name = n or
// namespace_name >= n + "." and < n + "/" ('/' follows '.'): a range on the namespace index, in
// byte order (SQLite's BINARY, PostgreSQL's COLLATE "C"), with no LIKE escaping.
struct NamespaceRange {
  std::string exact;
  std::string children_from;   // n + "."
  std::string children_below;  // n + "/"
};
NamespaceRange namespace_range(std::string_view namespace_name);

// The first string, in byte order, after every string starting with `prefix`, or nullopt when
// there is none that is valid UTF-8 (the prefix ends in non-ASCII bytes or 0x7f).
std::optional<std::string> prefix_upper_bound(std::string_view prefix);

// Shortest id prefix find_job accepts.
inline constexpr std::size_t kMinIdPrefix = 8;

// Waits until `wake_fd` is readable (returns false) or `timeout` passes (returns true); with
// `other_fd` >= 0 also returns true as soon as that one is readable. wake_fd -1: just sleeps.
// wake_fd is not read: the caller owns its state.
bool wait_readable(int wake_fd, int other_fd, std::chrono::milliseconds timeout,
                   bool* other_ready = nullptr);

}  // namespace runner::store::schema

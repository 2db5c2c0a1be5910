// The store's schema, its versioned migrations, and the small pieces of SQL and conversion both
// backends share. Both backends have the same tables, columns and view; only the dialect
// differs (SQLite: INTEGER PRIMARY KEY, json_each; PostgreSQL: BIGSERIAL, BOOLEAN, COLLATE "C"
// keys, jsonb_array_elements). docs/store.md describes them for people.
//
// Migrations are applied in one transaction when a store is opened: every migration whose
// version is above the highest row of schema_migrations, in order, each adding its row. A store
// already at latest_version() is not written to; one at a newer version is refused.
#pragma once

#include "store/store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace runner::store::schema {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sqlite_sql;    // one or more statements
  std::string_view postgres_sql;  // one or more statements
};

std::span<const Migration> migrations();
int latest_version();

// The error for a store written by a newer runner.
StoreError newer_schema_error(std::string_view store, int found_version);

// The statement that creates the version table (both dialects accept it).
inline constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL)";

// The jobs columns in the order every SELECT and INSERT of a whole job uses.
inline constexpr std::string_view kJobColumns =
    "id, component_id, namespace_name, status, priority, error_type, message, exit_code, "
    "container_exit_code, created_at, started_at, finished_at, outputs, metrics, spec, spec_dir, "
    "worker_id, lease_until, cancel_requested, attempts, container_id, events_stored";
inline constexpr int kJobColumnCount = 22;

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

// The final statuses, as an SQL list: what prune may select.
inline constexpr std::string_view kFinalStatusesSql =
    "('success', 'warning', 'error', 'cancelled', 'terminated')";

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

// The schema's migrations (see schema.hpp). A migration is never edited once released: a change
// to the schema is a new entry at the end of kMigrations, with the SQL for both dialects.
#include "store/schema.hpp"

#include <fmt/format.h>

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

namespace runner::store::schema {

namespace {

// Version 1: jobs, event blocks, key-value offsets, the events view.
constexpr std::string_view kSqlite1 = R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY NOT NULL,
  component_id TEXT NOT NULL DEFAULT '',
  namespace_name TEXT NOT NULL DEFAULT 'default',
  status TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  error_type TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  container_exit_code BIGINT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  outputs TEXT NOT NULL DEFAULT '{}',
  metrics TEXT NOT NULL DEFAULT '[]',
  spec TEXT NOT NULL DEFAULT '',
  spec_dir TEXT NOT NULL DEFAULT '',
  worker_id TEXT NOT NULL DEFAULT '',
  lease_until BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  container_id TEXT NOT NULL DEFAULT '',
  events_stored BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_claim ON jobs (status, priority DESC, created_at, id);
CREATE INDEX jobs_namespace ON jobs (namespace_name, created_at);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE event_blocks (
  row_id INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL,
  first_sequence BIGINT NOT NULL,
  last_sequence BIGINT NOT NULL,
  min_time BIGINT NOT NULL,
  max_time BIGINT NOT NULL,
  level_mask INTEGER NOT NULL,
  events TEXT NOT NULL
);
CREATE INDEX event_blocks_job ON event_blocks (job_id, first_sequence);
CREATE INDEX event_blocks_time ON event_blocks (min_time, row_id);
CREATE INDEX event_blocks_max_time ON event_blocks (max_time);

CREATE TABLE kv (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE VIEW events AS
SELECT b.job_id || '-' || printf('%012d', json_extract(e.value, '$[0]')) AS id,
       b.job_id AS job_id,
       json_extract(e.value, '$[0]') AS sequence,
       json_extract(e.value, '$[1]') AS time,
       coalesce(json_extract(e.value, '$[3]'), 'info') AS level,
       coalesce(json_extract(e.value, '$[4]'), 'stdout') AS source,
       json_extract(e.value, '$[2]') AS message,
       json_extract(e.value, '$[5]') AS fields
FROM event_blocks AS b, json_each(b.events) AS e;
)sql";

// Keys and namespaces use COLLATE "C" so that text order is byte order, as in SQLite and in
// std::string: event ids compare like (job, sequence), and prefix and namespace ranges use the
// indexes.
constexpr std::string_view kPostgres1 = R"sql(
CREATE TABLE jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  component_id TEXT NOT NULL DEFAULT '',
  namespace_name TEXT COLLATE "C" NOT NULL DEFAULT 'default',
  status TEXT COLLATE "C" NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  error_type TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  container_exit_code BIGINT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  outputs TEXT NOT NULL DEFAULT '{}',
  metrics TEXT NOT NULL DEFAULT '[]',
  spec TEXT NOT NULL DEFAULT '',
  spec_dir TEXT NOT NULL DEFAULT '',
  worker_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  lease_until BIGINT,
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  attempts INTEGER NOT NULL DEFAULT 0,
  container_id TEXT NOT NULL DEFAULT '',
  events_stored BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_claim ON jobs (status, priority DESC, created_at, id);
CREATE INDEX jobs_namespace ON jobs (namespace_name, created_at);
CREATE INDEX jobs_created ON jobs (created_at);

CREATE TABLE event_blocks (
  row_id BIGSERIAL PRIMARY KEY,
  job_id TEXT COLLATE "C" NOT NULL,
  first_sequence BIGINT NOT NULL,
  last_sequence BIGINT NOT NULL,
  min_time BIGINT NOT NULL,
  max_time BIGINT NOT NULL,
  level_mask INTEGER NOT NULL,
  events TEXT NOT NULL
);
CREATE INDEX event_blocks_job ON event_blocks (job_id, first_sequence);
CREATE INDEX event_blocks_time ON event_blocks (min_time, row_id);
CREATE INDEX event_blocks_max_time ON event_blocks (max_time);
-- lz4 compresses a block about as well as the default pglz at several times the speed (it
-- nearly doubles append throughput). PostgreSQL < 14, or built without lz4, keeps pglz.
DO $$
BEGIN
  EXECUTE 'ALTER TABLE event_blocks ALTER COLUMN events SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
  NULL;
END
$$;

CREATE TABLE kv (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE VIEW events AS
SELECT (b.job_id || '-' || repeat('0', 12 - length(e.value->>0)) || (e.value->>0))
         COLLATE "C" AS id,
       b.job_id AS job_id,
       (e.value->>0)::bigint AS sequence,
       (e.value->>1)::bigint AS "time",
       coalesce(e.value->>3, 'info') AS level,
       coalesce(e.value->>4, 'stdout') AS source,
       e.value->>2 AS message,
       (e.value->5)::text AS fields
FROM event_blocks AS b CROSS JOIN LATERAL jsonb_array_elements(b.events::jsonb) AS e(value);
)sql";

// Version 2 (issue 14): the runner of a `runner run` job (host and pid, so that a dead one is
// found), and the events a job lost (sequence ranges and why).
constexpr std::string_view kSqlite2 = R"sql(
ALTER TABLE jobs ADD COLUMN runner_host TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN runner_pid BIGINT;
ALTER TABLE jobs ADD COLUMN events_missing TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN events_missing_reason TEXT NOT NULL DEFAULT '';
)sql";
constexpr std::string_view kPostgres2 = R"sql(
ALTER TABLE jobs ADD COLUMN runner_host TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN runner_pid BIGINT;
ALTER TABLE jobs ADD COLUMN events_missing TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN events_missing_reason TEXT NOT NULL DEFAULT '';
)sql";

// Version 3 (issue 14): compressed blocks and a record of removed events.
//   - event_blocks.packed: the block's JSON array as a zstd frame (block_codec.hpp); events is ''
//     then. Blocks written before keep their JSON in events and packed NULL: both stay readable.
//   - event_blocks.event_count: the number of events of the block (sequences may have gaps, so
//     last - first + 1 is not it); NULL in older blocks (count their JSON array instead).
//   - event_removals: one row per job each time its events were deleted (runner prune, runner
//     ship with delete: true): by what, when, how many, which sequences. Jobs are not changed.
//   - the events view now expands only uncompressed blocks: SQL cannot unpack zstd. The
//     documented equivalent is `runner logs JOB --json` (docs/store.md).
constexpr std::string_view kSqlite3 = R"sql(
ALTER TABLE event_blocks ADD COLUMN packed BLOB;
ALTER TABLE event_blocks ADD COLUMN event_count BIGINT;
CREATE TABLE event_removals (
  row_id INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL,
  removed_by TEXT NOT NULL,
  removed_at BIGINT NOT NULL,
  events BIGINT NOT NULL,
  first_sequence BIGINT NOT NULL,
  last_sequence BIGINT NOT NULL
);
CREATE INDEX event_removals_job ON event_removals (job_id, row_id);
DROP VIEW events;
CREATE VIEW events AS
SELECT b.job_id || '-' || printf('%012d', json_extract(e.value, '$[0]')) AS id,
       b.job_id AS job_id,
       json_extract(e.value, '$[0]') AS sequence,
       json_extract(e.value, '$[1]') AS time,
       coalesce(json_extract(e.value, '$[3]'), 'info') AS level,
       coalesce(json_extract(e.value, '$[4]'), 'stdout') AS source,
       json_extract(e.value, '$[2]') AS message,
       json_extract(e.value, '$[5]') AS fields
FROM event_blocks AS b, json_each(b.events) AS e
WHERE b.packed IS NULL;
)sql";

// The zstd frames are stored as they are (STORAGE EXTERNAL): TOAST would try, and fail, to
// compress them again.
constexpr std::string_view kPostgres3 = R"sql(
ALTER TABLE event_blocks ADD COLUMN packed BYTEA;
ALTER TABLE event_blocks ALTER COLUMN packed SET STORAGE EXTERNAL;
ALTER TABLE event_blocks ADD COLUMN event_count BIGINT;
CREATE TABLE event_removals (
  row_id BIGSERIAL PRIMARY KEY,
  job_id TEXT COLLATE "C" NOT NULL,
  removed_by TEXT NOT NULL,
  removed_at BIGINT NOT NULL,
  events BIGINT NOT NULL,
  first_sequence BIGINT NOT NULL,
  last_sequence BIGINT NOT NULL
);
CREATE INDEX event_removals_job ON event_removals (job_id, row_id);
CREATE OR REPLACE VIEW events AS
SELECT (b.job_id || '-' || repeat('0', 12 - length(e.value->>0)) || (e.value->>0))
         COLLATE "C" AS id,
       b.job_id AS job_id,
       (e.value->>0)::bigint AS sequence,
       (e.value->>1)::bigint AS "time",
       coalesce(e.value->>3, 'info') AS level,
       coalesce(e.value->>4, 'stdout') AS source,
       e.value->>2 AS message,
       (e.value->5)::text AS fields
FROM event_blocks AS b CROSS JOIN LATERAL jsonb_array_elements(b.events::jsonb) AS e(value)
WHERE b.packed IS NULL;
)sql";

// In version order; a migration's version may leave gaps (branches number theirs ahead).
// Version 4 (issue 13): Keboola's component state, per component, configuration and
// configuration row ('' when none), the current value and every write (which job, when; a
// removal is a write with removed = 1); and each job's usage file. New tables only: the jobs
// table is not changed. `state` holds the JSON text with every '#' value encrypted when runner
// has a key (runner/component_state.hpp).
constexpr std::string_view kSqlite4 = R"sql(
CREATE TABLE component_state (
  component_id TEXT NOT NULL,
  config_id TEXT NOT NULL,
  config_row_id TEXT NOT NULL,
  state TEXT NOT NULL,
  job_id TEXT NOT NULL,
  written_at BIGINT NOT NULL,
  PRIMARY KEY (component_id, config_id, config_row_id)
);
CREATE TABLE component_state_history (
  id INTEGER PRIMARY KEY,
  component_id TEXT NOT NULL,
  config_id TEXT NOT NULL,
  config_row_id TEXT NOT NULL,
  removed INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  job_id TEXT NOT NULL,
  written_at BIGINT NOT NULL
);
CREATE INDEX component_state_history_key
  ON component_state_history (component_id, config_id, config_row_id, id);
CREATE INDEX component_state_history_job ON component_state_history (job_id);
CREATE TABLE job_usage (
  job_id TEXT PRIMARY KEY NOT NULL,
  usage TEXT NOT NULL,
  recorded_at BIGINT NOT NULL
);
)sql";

constexpr std::string_view kPostgres4 = R"sql(
CREATE TABLE component_state (
  component_id TEXT COLLATE "C" NOT NULL,
  config_id TEXT COLLATE "C" NOT NULL,
  config_row_id TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL,
  job_id TEXT NOT NULL,
  written_at BIGINT NOT NULL,
  PRIMARY KEY (component_id, config_id, config_row_id)
);
CREATE TABLE component_state_history (
  id BIGSERIAL PRIMARY KEY,
  component_id TEXT COLLATE "C" NOT NULL,
  config_id TEXT COLLATE "C" NOT NULL,
  config_row_id TEXT COLLATE "C" NOT NULL,
  removed BOOLEAN NOT NULL DEFAULT false,
  state TEXT NOT NULL,
  job_id TEXT COLLATE "C" NOT NULL,
  written_at BIGINT NOT NULL
);
CREATE INDEX component_state_history_key
  ON component_state_history (component_id, config_id, config_row_id, id);
CREATE INDEX component_state_history_job ON component_state_history (job_id);
CREATE TABLE job_usage (
  job_id TEXT COLLATE "C" PRIMARY KEY,
  usage TEXT NOT NULL,
  recorded_at BIGINT NOT NULL
);
)sql";

// Version 5 (issue 13): how each container run of a job of several (processors, rows) ended,
// for `runner show`: one JSON text per job, {"rows": [...], "stages": [...]} as in the result
// record (docs/events.md). A new table: the jobs table is not changed.
constexpr std::string_view kSqlite5 = R"sql(
CREATE TABLE job_runs (
  job_id TEXT PRIMARY KEY NOT NULL,
  runs TEXT NOT NULL,
  recorded_at BIGINT NOT NULL
);
)sql";

constexpr std::string_view kPostgres5 = R"sql(
CREATE TABLE job_runs (
  job_id TEXT COLLATE "C" PRIMARY KEY,
  runs TEXT NOT NULL,
  recorded_at BIGINT NOT NULL
);
)sql";

constexpr std::array<Migration, 5> kMigrations = {{
    {1, "jobs, event_blocks, kv, the events view", kSqlite1, kPostgres1},
    {2, "jobs: runner host and pid, missing events", kSqlite2, kPostgres2},
    {3, "compressed event blocks, event counts, event_removals", kSqlite3, kPostgres3},
    {4, "component_state, component_state_history, job_usage (issue 13)", kSqlite4, kPostgres4},
    {5, "job_runs (issue 13)", kSqlite5, kPostgres5},
}};

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_version() {
  return kMigrations.back().version;
}

std::vector<Migration> pending_migrations(const std::vector<int>& applied) {
  std::vector<Migration> out;
  for (const auto& m : kMigrations)
    if (std::find(applied.begin(), applied.end(), m.version) == applied.end()) out.push_back(m);
  return out;
}

StoreError newer_schema_error(std::string_view store, int found_version) {
  return StoreError(fmt::format(
      "{} has schema version {}, newer than this runner knows (up to {}): it was written by a "
      "newer runner; upgrade runner to use it",
      store, found_version, latest_version()));
}

const std::string& job_columns() {
  static const std::string columns = [] {
    std::string list;
    for (const auto name : kJobColumnNames) {
      if (!list.empty()) list += ", ";
      list += name;
    }
    return list;
  }();
  return columns;
}

JobRecord job_from_row(const JobRow& row) {
  using C = JobColumn;
  const auto optional_time = [&](C c) {
    return row.is_null(c) ? std::nullopt : std::optional<EventTime>(from_micros(row.integer(c)));
  };
  JobRecord j;
  j.id = row.text(C::id);
  j.component_id = row.text(C::component_id);
  j.namespace_name = row.text(C::namespace_name);
  j.status = row.text(C::status);
  j.priority = static_cast<int>(row.integer(C::priority));
  j.error_type = row.text(C::error_type);
  j.message = row.text(C::message);
  if (!row.is_null(C::exit_code)) j.exit_code = static_cast<int>(row.integer(C::exit_code));
  if (!row.is_null(C::container_exit_code))
    j.container_exit_code = row.integer(C::container_exit_code);
  j.created_at = from_micros(row.integer(C::created_at));
  j.started_at = optional_time(C::started_at);
  j.finished_at = optional_time(C::finished_at);
  j.outputs = row.text(C::outputs);
  j.metrics = row.text(C::metrics);
  j.spec = row.text(C::spec);
  j.spec_dir = row.text(C::spec_dir);
  j.worker_id = row.text(C::worker_id);
  j.lease_until = optional_time(C::lease_until);
  j.cancel_requested = row.boolean(C::cancel_requested);
  j.attempts = static_cast<int>(row.integer(C::attempts));
  j.container_id = row.text(C::container_id);
  j.events_stored = static_cast<std::uint64_t>(row.integer(C::events_stored));
  j.runner_host = row.text(C::runner_host);
  if (!row.is_null(C::runner_pid)) j.runner_pid = row.integer(C::runner_pid);
  j.events_missing = row.text(C::events_missing);
  j.events_missing_reason = row.text(C::events_missing_reason);
  return j;
}

void add_job_params(const JobRecord& job, std::string_view status, JobParams& p) {
  const auto optional_time = [](const std::optional<EventTime>& t) {
    return t ? std::optional<std::int64_t>(micros(*t)) : std::nullopt;
  };
  p.text(job.id);
  p.text(job.component_id);
  p.text(job.namespace_name);
  p.text(status);
  p.integer(job.priority);
  p.text(job.error_type);
  p.text(job.message);
  p.integer(job.exit_code ? std::optional<std::int64_t>(*job.exit_code) : std::nullopt);
  p.integer(job.container_exit_code);
  p.integer(micros(job.created_at == EventTime{} ? logging::now_utc() : job.created_at));
  p.integer(optional_time(job.started_at));
  p.integer(optional_time(job.finished_at));
  p.text(job.outputs.empty() ? std::string_view("{}") : std::string_view(job.outputs));
  p.text(job.metrics.empty() ? std::string_view("[]") : std::string_view(job.metrics));
  p.text(job.spec);
  p.text(job.spec_dir);
  p.text(job.worker_id);
  p.integer(optional_time(job.lease_until));
  p.boolean(job.cancel_requested);
  p.integer(job.attempts);
  p.text(job.container_id);
  p.integer(static_cast<std::int64_t>(job.events_stored));
  p.text(job.runner_host);
  p.integer(job.runner_pid);
  p.text(job.events_missing);
  p.text(job.events_missing_reason);
}

std::string with_statuses(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 32);
  std::size_t i = 0;
  while (i < sql.size()) {
    const auto open = sql.find('{', i);
    if (open == std::string_view::npos) break;
    const auto close = sql.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(sql.substr(i, open - i));
    const auto name = sql.substr(open + 1, close - open - 1);
    if (logging::job_status_from_name(name)) {
      out += '\'';
      out += name;
      out += '\'';
    } else {
      out.append(sql.substr(open, close - open + 1));
    }
    i = close + 1;
  }
  out.append(sql.substr(i));
  return out;
}

std::string exhausted_job_message() {
  return fmt::format(
      "Gave up after {} attempts: each worker that claimed this job stopped before the job "
      "finished (the worker was killed, or crashed running it), so it is not claimed again",
      kMaxAttempts);
}

namespace {
struct KeyedTextColumns {
  const char* table;
  const char* key;
  const char* text;
  const char* time;
};
KeyedTextColumns columns_of(KeyedText table) {
  switch (table) {
    case KeyedText::kv:
      return {"kv", "key", "value", "updated_at"};
    case KeyedText::usage:
      return {"job_usage", "job_id", "usage", "recorded_at"};
    case KeyedText::runs:
      break;
  }
  return {"job_runs", "job_id", "runs", "recorded_at"};
}
}  // namespace

std::string keyed_text_select(KeyedText table, char placeholder) {
  const auto c = columns_of(table);
  return fmt::format("SELECT {} FROM {} WHERE {} = {}1", c.text, c.table, c.key, placeholder);
}

std::string keyed_text_upsert(KeyedText table, char placeholder) {
  const auto c = columns_of(table);
  return fmt::format(
      "INSERT INTO {0} ({1}, {2}, {3}) VALUES ({4}1, {4}2, {4}3) ON CONFLICT ({1}) DO UPDATE SET "
      "{2} = excluded.{2}, {3} = excluded.{3}",
      c.table, c.key, c.text, c.time, placeholder);
}

std::string keyed_text_what(KeyedText table, std::string_view key) {
  switch (table) {
    case KeyedText::kv:
      return fmt::format("the value of {}", key);
    case KeyedText::usage:
      return fmt::format("the usage of job {}", key);
    case KeyedText::runs:
      break;
  }
  return fmt::format("the runs of job {}", key);
}

std::string_view removed_by_name(RemovedBy by) {
  return by == RemovedBy::prune ? "prune" : "ship";
}

std::int64_t level_mask_at_least(logging::Level min_level) {
  const unsigned bits = (1u << static_cast<unsigned>(min_level)) - 1u;
  return static_cast<std::int64_t>(~bits & 0xFFu);
}

NamespaceRange namespace_range(std::string_view namespace_name) {
  NamespaceRange r;
  r.exact = std::string(namespace_name);
  r.children_from = r.exact + '.';
  r.children_below = r.exact + '/';
  return r;
}

std::optional<std::string> prefix_upper_bound(std::string_view prefix) {
  if (prefix.empty()) return std::nullopt;
  const auto last = static_cast<unsigned char>(prefix.back());
  if (last >= 0x7f) return std::nullopt;
  std::string bound(prefix);
  bound.back() = static_cast<char>(last + 1);
  return bound;
}

bool wait_readable(int wake_fd, int other_fd, std::chrono::milliseconds timeout,
                   bool* other_ready) {
  using clock = std::chrono::steady_clock;
  if (other_ready != nullptr) *other_ready = false;
  if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
  const auto deadline = clock::now() + timeout;
  std::array<pollfd, 2> fds{};
  nfds_t count = 0;
  int wake_index = -1;
  int other_index = -1;
  if (wake_fd >= 0) {
    wake_index = static_cast<int>(count);
    fds[count++] = pollfd{wake_fd, POLLIN, 0};
  }
  if (other_fd >= 0) {
    other_index = static_cast<int>(count);
    fds[count++] = pollfd{other_fd, POLLIN, 0};
  }
  if (count == 0) {
    std::this_thread::sleep_for(timeout);
    return true;
  }
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    const int rc =
        ::poll(fds.data(), count, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      throw StoreError(fmt::format("waiting for jobs: poll failed: {}", std::strerror(errno)));
    }
    if (rc == 0) return true;
    // The wake descriptor wins when both are ready: a draining worker must not take a job.
    if (wake_index >= 0 && fds[static_cast<std::size_t>(wake_index)].revents != 0) return false;
    if (other_index >= 0 && fds[static_cast<std::size_t>(other_index)].revents != 0) {
      if (other_ready != nullptr) *other_ready = true;
      return true;
    }
  }
}

}  // namespace runner::store::schema

// The SQLite backend's component state, usage and job queue (sqlite_backend.hpp has the
// connection's types; sqlite_store.cpp the rest of the backend).
#include "store/sqlite_backend.hpp"

#include <algorithm>

namespace runner::store::sqlite_backend {

// --- component state and usage -------------------------------------------------------------------

namespace {
constexpr const char* kStateColumns =
    "component_id, config_id, config_row_id, removed, state, job_id, written_at";
StateWrite state_from(const Query& q) {
  StateWrite w;
  w.key = {q.text(0), q.text(1), q.text(2)};
  w.removed = q.i64(3) != 0;
  w.state = q.text(4);
  w.job_id = q.text(5);
  w.time = from_micros(q.i64(6));
  return w;
}
}  // namespace

void SqliteStore::write_state(const StateWrite& w) {
  const std::string what = fmt::format("save the state of {}", w.key.component_id);
  WriteTransaction tx(*this, what);
  query(fmt::format("INSERT INTO component_state_history ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    kStateColumns),
        what)
      .bind(1, w.key.component_id)
      .bind(2, w.key.config_id)
      .bind(3, w.key.row_id)
      .bind(4, std::int64_t{w.removed ? 1 : 0})
      .bind(5, w.state)
      .bind(6, w.job_id)
      .bind(7, w.time)
      .run();
  if (w.removed) {
    query(
        "DELETE FROM component_state WHERE component_id = ?1 AND config_id = ?2 AND "
        "config_row_id = ?3",
        what)
        .bind(1, w.key.component_id)
        .bind(2, w.key.config_id)
        .bind(3, w.key.row_id)
        .run();
  } else {
    query(
        "INSERT INTO component_state (component_id, config_id, config_row_id, state, job_id, "
        "written_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (component_id, config_id, "
        "config_row_id) DO UPDATE SET state = excluded.state, job_id = excluded.job_id, "
        "written_at = excluded.written_at",
        what)
        .bind(1, w.key.component_id)
        .bind(2, w.key.config_id)
        .bind(3, w.key.row_id)
        .bind(4, w.state)
        .bind(5, w.job_id)
        .bind(6, w.time)
        .run();
  }
  tx.commit();
}

std::optional<StateWrite> SqliteStore::read_state(const StateKey& key) {
  auto q = query(
      "SELECT component_id, config_id, config_row_id, 0, state, job_id, written_at "
      "FROM component_state WHERE component_id = ?1 AND config_id = ?2 AND "
      "config_row_id = ?3",
      fmt::format("read the state of {}", key.component_id));
  q.bind(1, key.component_id).bind(2, key.config_id).bind(3, key.row_id);
  if (!q.step()) return std::nullopt;
  return state_from(q);
}

std::vector<StateWrite> SqliteStore::state_history(const StateKey& key, std::size_t limit) {
  auto q = query(fmt::format("SELECT {} FROM component_state_history WHERE component_id = ?1 "
                             "AND config_id = ?2 AND config_row_id = ?3 ORDER BY id DESC "
                             "LIMIT ?4",
                             kStateColumns),
                 fmt::format("read the state history of {}", key.component_id));
  q.bind(1, key.component_id)
      .bind(2, key.config_id)
      .bind(3, key.row_id)
      .bind(4, static_cast<std::int64_t>(limit));
  std::vector<StateWrite> out;
  while (q.step()) out.push_back(state_from(q));
  return out;
}

std::vector<StateWrite> SqliteStore::job_state_writes(std::string_view job_id) {
  auto q = query(fmt::format("SELECT {} FROM component_state_history WHERE job_id = ?1 ORDER BY id",
                             kStateColumns),
                 fmt::format("read the state writes of job {}", job_id));
  q.bind(1, job_id);
  std::vector<StateWrite> out;
  while (q.step()) out.push_back(state_from(q));
  return out;
}

void SqliteStore::put_usage(std::string_view job_id, std::string_view usage) {
  write_keyed(schema::KeyedText::usage, job_id, usage);
}

std::optional<std::string> SqliteStore::job_usage(std::string_view job_id) {
  return read_keyed(schema::KeyedText::usage, job_id);
}

void SqliteStore::put_job_runs(std::string_view job_id, std::string_view runs) {
  write_keyed(schema::KeyedText::runs, job_id, runs);
}

std::optional<std::string> SqliteStore::job_runs(std::string_view job_id) {
  return read_keyed(schema::KeyedText::runs, job_id);
}

// --- queue --------------------------------------------------------------------------------------

void SqliteStore::enqueue(const JobRecord& job) {
  // Workers poll (wait_for_jobs): there is no one to wake.
  insert_job_as(job, kStatusWaiting, "enqueue job " + job.id);
}

std::optional<JobRecord> SqliteStore::claim_job(std::string_view worker_id,
                                                std::chrono::milliseconds lease) {
  const std::string_view what = "claim a job";
  const auto now = logging::now_utc();
  // Idle workers ask several times a second: find out without the write lock whether there is
  // anything to claim, so that they do not hold up the processes writing events.
  {
    auto q = query(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE status = {waiting}) OR EXISTS "
        "(SELECT 1 FROM jobs WHERE status IN ({processing}, {terminating}) "
        "AND lease_until < ?1 AND attempts < ?2)",
        what);
    q.bind(1, now).bind(2, std::int64_t{kMaxAttempts});
    if (!q.step() || q.i64(0) == 0) return std::nullopt;
  }
  WriteTransaction tx(*this, what);
  std::optional<std::string> id;
  {
    auto q = query(
        "SELECT id FROM jobs WHERE status = {waiting} "
        "ORDER BY priority DESC, created_at, id LIMIT 1",
        what);
    if (q.step()) id = q.text(0);
  }
  if (!id) {
    auto q = query(
        "SELECT id FROM jobs WHERE status IN ({processing}, {terminating}) "
        "AND lease_until < ?1 AND attempts < ?2 ORDER BY lease_until LIMIT 1",
        what);
    q.bind(1, now).bind(2, std::int64_t{kMaxAttempts});
    if (q.step()) id = q.text(0);
  }
  if (!id) return std::nullopt;  // the transaction rolls back: nothing was written
  static const std::string update = fmt::format(
      "UPDATE jobs SET status = CASE WHEN status = {{terminating}} THEN status ELSE {{processing}} "
      "END, worker_id = ?1, lease_until = ?2, attempts = attempts + 1 WHERE id = ?3 RETURNING {}",
      schema::job_columns());
  std::optional<JobRecord> job;
  {
    auto q = query(update, what);
    q.bind(1, worker_id).bind(2, now + lease).bind(3, *id);
    if (q.step()) job = job_from(q);
    q.run();
  }
  tx.commit();
  return job;
}

Store::Heartbeat SqliteStore::heartbeat(std::string_view worker_id,
                                        const std::vector<std::string>& job_ids,
                                        std::chrono::milliseconds lease) {
  Heartbeat result;
  if (job_ids.empty()) return result;
  const std::string_view what = "extend job leases";
  const auto until = logging::now_utc() + lease;
  WriteTransaction tx(*this, what);
  for (const auto& id : job_ids) {
    auto q = query(
        "UPDATE jobs SET lease_until = ?1 WHERE id = ?2 AND worker_id = ?3 "
        "AND status IN ({processing}, {terminating}) RETURNING cancel_requested",
        what);
    q.bind(1, until).bind(2, id).bind(3, worker_id);
    if (!q.step()) {
      result.lost.push_back(id);
      continue;
    }
    if (q.i64(0) != 0) result.cancel_requested.push_back(id);
    q.run();
  }
  tx.commit();
  return result;
}

std::optional<JobRecord> SqliteStore::request_cancel(std::string_view id_or_prefix) {
  const auto found = find_job(id_or_prefix);
  if (!found) return std::nullopt;
  static const std::string sql = fmt::format(
      "UPDATE jobs SET "
      "status = CASE WHEN status IN ({{waiting}}, {{created}}) THEN {{cancelled}} "
      "WHEN status = {{processing}} THEN {{terminating}} ELSE status END, "
      "finished_at = CASE WHEN status IN ({{waiting}}, {{created}}) THEN ?1 ELSE finished_at END, "
      "cancel_requested = CASE WHEN status IN ({{processing}}, {{terminating}}) THEN 1 "
      "ELSE cancel_requested END "
      "WHERE id = ?2 RETURNING {}",
      schema::job_columns());
  const std::string what = fmt::format("cancel job {}", found->id);
  WriteTransaction tx(*this, what);
  std::optional<JobRecord> job;
  {
    auto q = query(sql, what);
    q.bind(1, logging::now_utc()).bind(2, found->id);
    if (q.step()) job = job_from(q);
    q.run();
  }
  tx.commit();
  return job;
}

std::vector<JobRecord> SqliteStore::end_exhausted_jobs() {
  static const std::string sql = fmt::format(
      "UPDATE jobs SET status = {{error}}, error_type = 'internal', message = ?1, exit_code = ?2, "
      "finished_at = ?3, lease_until = NULL WHERE status IN ({{processing}}, {{terminating}}) "
      "AND lease_until < ?3 AND attempts >= ?4 RETURNING {}",
      schema::job_columns());
  const std::string_view what = "end jobs out of attempts";
  const std::string message = schema::exhausted_job_message();
  WriteTransaction tx(*this, what);
  std::vector<JobRecord> ended;
  {
    auto q = query(sql, what);
    q.bind(1, message)
        .bind(2, std::int64_t{kExitInternal})
        .bind(3, logging::now_utc())
        .bind(4, std::int64_t{kMaxAttempts});
    while (q.step()) ended.push_back(job_from(q));
  }
  tx.commit();
  return ended;
}

void SqliteStore::release_job(std::string_view job_id, std::string_view worker_id) {
  // A job whose cancel was requested is not queued again: it ends cancelled.
  query(
      "UPDATE jobs SET "
      "status = CASE WHEN status = {terminating} THEN {cancelled} ELSE {waiting} END, "
      "finished_at = CASE WHEN status = {terminating} THEN ?1 ELSE finished_at END, "
      "worker_id = '', lease_until = NULL, "
      // Back in the queue it is a new job again: the next claim must not take it for a
      // take-over of a dead worker's container.
      "container_id = CASE WHEN status = {terminating} THEN container_id ELSE '' END, "
      "started_at = CASE WHEN status = {terminating} THEN started_at ELSE NULL END "
      "WHERE id = ?2 AND worker_id = ?3 AND status IN ({processing}, {terminating})",
      fmt::format("release job {}", job_id))
      .bind(1, logging::now_utc())
      .bind(2, job_id)
      .bind(3, worker_id)
      .run();
}

bool SqliteStore::wait_for_jobs(std::chrono::milliseconds timeout, int wake_fd) {
  return schema::wait_readable(wake_fd, -1, std::min(timeout, kSqlitePollInterval));
}

}  // namespace runner::store::sqlite_backend

// The PostgreSQL backend's component state, usage and job queue (postgres_backend.hpp has the
// connection's types; postgres_store.cpp the rest of the backend).
#include "store/postgres_backend.hpp"

#include <algorithm>

namespace runner::store::postgres_backend {

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
  write_keyed(schema::KeyedText::usage, job_id, usage);
}

std::optional<std::string> PostgresStore::job_usage(std::string_view job_id) {
  return read_keyed(schema::KeyedText::usage, job_id);
}

void PostgresStore::put_job_runs(std::string_view job_id, std::string_view runs) {
  write_keyed(schema::KeyedText::runs, job_id, runs);
}

std::optional<std::string> PostgresStore::job_runs(std::string_view job_id) {
  return read_keyed(schema::KeyedText::runs, job_id);
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

}  // namespace runner::store::postgres_backend

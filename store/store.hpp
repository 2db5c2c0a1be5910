// Store: where jobs, their events and the shipper's offsets are kept. One interface, two
// backends with the same schema and behaviour: SQLite (embedded default, $RUNNER_HOME/runner.db,
// WAL) and PostgreSQL (libpq; many runners on many machines share one).
//
// Events are stored in blocks: one row holds up to a few thousand consecutive events of one job
// (EventBlock, a JSON array). A busy component prints a million lines a second; one row per line
// caps SQLite near 400,000 inserts/s with the indexes a reader needs (measured), so row-per-line
// would double the run time of a noisy job, while a block row costs about what writing its bytes
// costs. Every event keeps its own identity (job id + sequence, unique across runners), time,
// level, source, message and fields; readers expand blocks (see event_block.hpp). Since schema 3
// blocks are zstd-compressed (block_codec.hpp); the `events` view expands in SQL only the blocks
// written before (docs/store.md gives the equivalent for the others).
//
// A Store object is one connection: use it from one thread at a time (a worker opens one per
// job thread). Every method throws StoreError on failure, with the backend's message.
#pragma once

#include "common/error.hpp"

#include "logging/event.hpp"
#include "logging/job_status.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace runner::store {

// Of kind store_unavailable (exit 74): the store cannot be opened or read. `transient`: the
// store is busy (SQLite: another process holds the lock past the busy timeout) or unreachable
// (PostgreSQL: the connection is lost), so the same call may succeed later. `disk_full`: the
// store's disk has no room (SQLite's SQLITE_FULL), which waiting does not mend.
class StoreError : public Error {
 public:
  explicit StoreError(const std::string& what, bool transient = false, bool disk_full = false)
      : Error(ErrorKind::store_unavailable, what), transient_(transient), disk_full_(disk_full) {}
  bool transient() const { return transient_; }
  bool disk_full() const { return disk_full_; }

 private:
  bool transient_;
  bool disk_full_;
};

// Of kind usage (exit 64): a job id prefix shorter than 8 characters, or one that matches more
// than one job. Names the jobs it matches, up to kPrefixCandidates of them.
class JobIdPrefixError : public Error {
 public:
  static constexpr std::size_t kPrefixCandidates = 5;
  // `matches`: the ids found, up to kPrefixCandidates + 1 (one more says "and more").
  JobIdPrefixError(std::string_view prefix, std::vector<std::string> matches);
  const std::vector<std::string>& candidates() const { return candidates_; }

 private:
  std::vector<std::string> candidates_;
};

using logging::EventTime;

// One event as stored and as read back.
struct StoredEvent {
  std::string job_id;
  std::uint64_t sequence = 0;
  EventTime time{};
  logging::Level level = logging::Level::info;
  std::string source;
  std::string message;
  std::string fields;  // a JSON object as text, or empty

  // "<job id>-<sequence, 12 digits>": unique across runners (job ids are UUIDv7) and ordered
  // like (job, sequence) when compared as text.
  std::string id() const;
};

// Up to a few thousand consecutive events of one job, as the sink writes them.
struct EventBlock {
  std::int64_t row_id = 0;  // assigned by the store; 0 before insertion
  std::string job_id;
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
  EventTime min_time{};
  EventTime max_time{};
  std::uint32_t level_mask = 0;  // bit (1 << Level) set for every level present
  std::string events;            // JSON array, see event_block.hpp ("" when packed holds it)
  std::string packed;            // the JSON array as a zstd frame (block_codec.hpp), or empty
  // How many events the block holds (sequences may have gaps). 0 for blocks read back from a
  // store written before schema version 3 and from backends that do not know it.
  std::uint64_t event_count = 0;
};

// Job statuses, as in Keboola's queue: the names of logging::JobStatus (logging/job_status.hpp).
inline constexpr std::string_view kStatusCreated = job_status_name(logging::JobStatus::created);
inline constexpr std::string_view kStatusWaiting = job_status_name(logging::JobStatus::waiting);
inline constexpr std::string_view kStatusProcessing =
    job_status_name(logging::JobStatus::processing);
inline constexpr std::string_view kStatusSuccess = job_status_name(logging::JobStatus::success);
inline constexpr std::string_view kStatusWarning = job_status_name(logging::JobStatus::warning);
inline constexpr std::string_view kStatusError = job_status_name(logging::JobStatus::error);
inline constexpr std::string_view kStatusTerminating =
    job_status_name(logging::JobStatus::terminating);
inline constexpr std::string_view kStatusCancelled = job_status_name(logging::JobStatus::cancelled);
inline constexpr std::string_view kStatusTerminated =
    job_status_name(logging::JobStatus::terminated);
bool is_final_status(std::string_view status);

// How many times a queued job is claimed before runner gives up on it: a job whose worker keeps
// dying while it runs it (killed, or crashed by the job itself) is not claimed a fourth time;
// end_exhausted_jobs() ends it as `error` once its last lease expired.
inline constexpr int kMaxAttempts = 3;

struct JobRecord {
  std::string id;
  std::string component_id;
  std::string namespace_name = "default";
  std::string status;            // one of the kStatus* values
  int priority = 0;              // higher runs first
  std::string error_type;        // "", user, application, internal
  std::string message;           // result message (scrubbed)
  std::optional<int> exit_code;  // runner's exit code for the job
  std::optional<std::int64_t> container_exit_code;
  EventTime created_at{};
  std::optional<EventTime> started_at;
  std::optional<EventTime> finished_at;
  std::string outputs = "{}";  // JSON object text (Kestra outputs, merged)
  std::string metrics = "[]";  // JSON array text (Kestra metrics, aggregated)
  // Queue columns (issue 7). `spec` is component.json as submitted: ciphertexts stay encrypted
  // in the store and are decrypted by the worker that runs the job.
  std::string spec;
  std::string spec_dir;  // the folder it was submitted from (for people; workers need only spec)
  std::string worker_id;
  std::optional<EventTime> lease_until;
  bool cancel_requested = false;
  int attempts = 0;
  std::string container_id;
  std::uint64_t events_stored = 0;  // highest event sequence stored
  // The process that runs a `runner run` job (workers' jobs have leases instead): `runner gc`
  // and workers end the job as error when that process is gone (schema version 2).
  std::string runner_host;
  std::optional<std::int64_t> runner_pid;
  // Events that never reached the store although the job emitted them: sequence ranges
  // ("41-52,90-200") and why. Empty when every event was stored.
  std::string events_missing;
  std::string events_missing_reason;
};

struct JobFilter {
  std::optional<std::string> namespace_name;
  std::optional<std::string> status;
  std::size_t limit = 50;  // newest first
};

// Jobs `runner prune` removes: finished (a final status) before `finished_before`, optionally in
// a namespace (and its children) and with one status; oldest first, at most `limit`.
struct PruneFilter {
  EventTime finished_before{};
  std::optional<std::string> namespace_name;
  std::optional<std::string> status;  // a final status
  bool only_with_events = false;      // only jobs that still have event blocks
  std::size_t limit = 1000;
};

// What deleting jobs or their events removed.
struct RemovedCounts {
  std::uint64_t jobs = 0;
  std::uint64_t blocks = 0;
  std::uint64_t events = 0;
};

// A record that a job's events were deleted (event_removals): by `runner prune` or by
// `runner ship` with delete: true, when, how many, and the sequences they spanned.
struct EventRemoval {
  std::string job_id;
  std::string removed_by;  // "prune" or "ship" (schema::RemovedBy)
  EventTime removed_at{};
  std::uint64_t events = 0;
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
};

// Where the shipper reads from: events strictly after (time, id), in the namespace (nullopt:
// all), at least `min_level`, with time < `until`.
struct EventCursor {
  EventTime time{};
  std::string id;  // empty: nothing at `time` was read yet
};

// Keboola's component state (issue 13): which state, and one write of it.
struct StateKey {
  std::string component_id;
  std::string config_id;
  std::string row_id;  // the configuration row; "" when the configuration has none
};
struct StateWrite {
  StateKey key;
  bool removed = false;  // a missing or empty out/state.json removes the state
  std::string state;     // JSON text, '#' values encrypted when runner has a key
  std::string job_id;
  EventTime time{};
};

class Store {
 public:
  virtual ~Store() = default;

  // Text that identifies the store in messages (a PostgreSQL password is never in it).
  virtual std::string describe() const = 0;
  // The file the store lives in (SQLite), on whose disk a writer may keep a reserve
  // (store_sink.hpp); nullopt for a server.
  virtual std::optional<std::filesystem::path> local_file() const { return std::nullopt; }
  // How long a call waits for another process's lock before it fails with a transient
  // StoreError (SQLite's busy timeout, kSqliteBusyTimeout by default; PostgreSQL waits on locks
  // as its server does, and ignores this).
  virtual void set_busy_timeout(std::chrono::milliseconds timeout) { (void)timeout; }

  // --- jobs ---------------------------------------------------------------------------------
  virtual void insert_job(const JobRecord& job) = 0;
  // Sets status (processing), started_at, container id (may be empty) of a job.
  virtual void mark_started(std::string_view job_id, EventTime started_at) = 0;
  virtual void set_container(std::string_view job_id, std::string_view container_id) = 0;
  // Final status, codes, message, outputs and metrics; clears the lease.
  virtual void finish_job(const JobRecord& finished) = 0;
  // An exact id, or a unique prefix of one (at least 8 characters); JobIdPrefixError when the
  // prefix is shorter or matches several.
  virtual std::optional<JobRecord> find_job(std::string_view id_or_prefix) = 0;
  virtual std::vector<JobRecord> list_jobs(const JobFilter& filter) = 0;

  // --- events -------------------------------------------------------------------------------
  // Inserts blocks in one transaction and raises the jobs' events_stored.
  virtual void append_blocks(const std::vector<EventBlock>& blocks) = 0;
  // A job's blocks with last_sequence > after_sequence, in sequence order, at most `limit`.
  virtual std::vector<EventBlock> job_blocks(std::string_view job_id, std::uint64_t after_sequence,
                                             std::size_t limit) = 0;
  // Blocks that may hold events after `cursor` and before `until`: max_time >= cursor.time and
  // min_time < until, of jobs in the namespace (and its children, "a.b" under "a"), holding a
  // level >= min_level; ordered by (min_time, row_id), starting after (after_min_time,
  // after_row_id) for paging; at most `limit`.
  struct BlockPage {
    EventTime after_min_time{};
    std::int64_t after_row_id = -1;
  };
  virtual std::vector<EventBlock> blocks_in_time(const EventCursor& cursor, EventTime until,
                                                 const std::optional<std::string>& namespace_name,
                                                 logging::Level min_level, BlockPage page,
                                                 std::size_t limit) = 0;
  // Deletes blocks whose every event is at or before `cursor` (max_time < cursor.time, or
  // == with ids <= cursor.id), in the namespace, and records each job's removal (by ship) in
  // event_removals. Returns the number of events deleted, counted exactly.
  virtual std::uint64_t delete_blocks_through(const EventCursor& cursor,
                                              const std::optional<std::string>& namespace_name) = 0;
  // The removals recorded for a job, oldest first.
  virtual std::vector<EventRemoval> event_removals(std::string_view job_id) = 0;

  // --- retention (issue 14; store/retention.hpp drives these) --------------------------------
  // The jobs `filter` selects (never one that is not finished).
  virtual std::vector<JobRecord> prunable_jobs(const PruneFilter& filter) = 0;
  // Deletes the jobs' event blocks, and, unless `keep_jobs`, the jobs and their removal records
  // (with keep_jobs each job gets a removal record instead). In short transactions (PostgreSQL:
  // batches of blocks), so writers of other jobs are never held up for long. Touches no other
  // table.
  virtual RemovedCounts delete_jobs(const std::vector<std::string>& job_ids, bool keep_jobs) = 0;
  // Gives freed space back to the file system, at most `max_bytes` of it (SQLite: incremental
  // vacuum and a WAL truncation; PostgreSQL: nothing, its autovacuum makes the space reusable).
  // Returns the bytes given back, when the backend knows.
  virtual std::uint64_t reclaim_space(std::uint64_t max_bytes) = 0;
  // The store's size on disk in bytes (SQLite: the file and its WAL; PostgreSQL: the runner
  // tables with their indexes and TOAST), or nullopt when it cannot be read.
  virtual std::optional<std::uint64_t> size_bytes() = 0;

  // --- key-value (shipper offsets) -----------------------------------------------------------
  virtual std::optional<std::string> get_value(std::string_view key) = 0;
  virtual void put_value(std::string_view key, std::string_view value) = 0;

  // --- component state and usage (issue 13) -----------------------------------------------------
  // Records the write in the history and makes it the current state (or removes it), in one
  // transaction: of two jobs writing at once, the later commit wins and both are in the history.
  virtual void write_state(const StateWrite& write) = 0;
  virtual std::optional<StateWrite> read_state(const StateKey& key) = 0;
  // The key's writes, newest first, at most `limit`.
  virtual std::vector<StateWrite> state_history(const StateKey& key, std::size_t limit) = 0;
  // The state writes a job made (none, or one per configuration row).
  virtual std::vector<StateWrite> job_state_writes(std::string_view job_id) = 0;
  // A job's usage file (a JSON array as text), as validated after its run.
  virtual void put_usage(std::string_view job_id, std::string_view usage) = 0;
  virtual std::optional<std::string> job_usage(std::string_view job_id) = 0;
  // A job of several container runs: its rows and stages ({"rows", "stages"} as JSON text).
  virtual void put_job_runs(std::string_view job_id, std::string_view runs) = 0;
  virtual std::optional<std::string> job_runs(std::string_view job_id) = 0;

  // --- queue (issue 7) ------------------------------------------------------------------------
  // Inserts a job in status `waiting` and wakes workers (PostgreSQL: NOTIFY runner_jobs).
  virtual void enqueue(const JobRecord& job) = 0;
  // Claims the next job for `worker_id`: the waiting job with the highest priority, oldest
  // first; or else a `processing`/`terminating` job whose lease has expired (its worker died:
  // attempts is raised and the caller recovers it), unless it had kMaxAttempts already. The
  // claimed job is `processing` (or stays
  // `terminating`) with worker_id and lease_until = now + lease. PostgreSQL: FOR UPDATE SKIP
  // LOCKED; SQLite: BEGIN IMMEDIATE. No job is ever held by two workers at once.
  virtual std::optional<JobRecord> claim_job(std::string_view worker_id,
                                             std::chrono::milliseconds lease) = 0;
  // Extends the leases of the worker's jobs; returns the ids among `job_ids` whose cancel was
  // requested. A job whose lease was taken over by another worker is not extended (and is
  // returned in `lost`).
  struct Heartbeat {
    std::vector<std::string> cancel_requested;
    std::vector<std::string> lost;
  };
  virtual Heartbeat heartbeat(std::string_view worker_id, const std::vector<std::string>& job_ids,
                              std::chrono::milliseconds lease) = 0;
  // A waiting job becomes `cancelled` at once; a processing one becomes `terminating` with
  // cancel_requested set (its worker stops it). Returns the job after the change, or nullopt
  // if there is no such job. A finished job is left as it is.
  virtual std::optional<JobRecord> request_cancel(std::string_view id_or_prefix) = 0;
  // Ends as `error` (internal, exit 70, a message saying why) every processing or terminating
  // job whose lease expired after its kMaxAttempts-th claim, and returns them as they are now.
  // Workers call it as housekeeping, so a job that kills its workers ends instead of looping.
  virtual std::vector<JobRecord> end_exhausted_jobs() = 0;
  // Gives a claimed job back to the queue (worker draining): status waiting, no worker/lease.
  virtual void release_job(std::string_view job_id, std::string_view worker_id) = 0;
  // Blocks until a job may be waiting or `timeout` passes (PostgreSQL: LISTEN/NOTIFY; SQLite:
  // returns after min(timeout, poll interval)). Returns early, false, if `wake_fd` (an eventfd
  // or pipe, -1 for none) becomes readable.
  virtual bool wait_for_jobs(std::chrono::milliseconds timeout, int wake_fd) = 0;
};

// Ends as error every processing or terminating `runner run` job recorded as run on `host` by a
// process that is gone (`alive(pid)` is false), with a message saying the runner died; returns
// the jobs as they are now. `runner gc` and workers call it (a job of a worker has a lease
// instead and is never one of these). `salvage`, when given, runs first for each such job: it
// may store what the runner left behind (its spool: store_left_over_spool) and raise the
// record's events_stored.
std::vector<JobRecord> end_jobs_of_dead_runners(
    Store& store, std::string_view host, const std::function<bool(std::int64_t)>& alive,
    const std::function<void(JobRecord&)>& salvage = {});

// Opens (creating and migrating the schema when needed) the store at `url`:
//   sqlite:PATH             an SQLite file (folders are created, mode 0700)
//   postgresql://... or postgres://...   a libpq connection URI
// Throws StoreError naming what was wrong.
std::unique_ptr<Store> open_store(std::string_view url);

// The default store URL: $RUNNER_STORE if set, else sqlite:$RUNNER_HOME/runner.db (RUNNER_HOME
// defaulting to ~/.runner). "none" means no store.
std::string default_store_url();

}  // namespace runner::store

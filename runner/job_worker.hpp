// JobWorker: `runner worker`, a job-queue worker on the store (PostgreSQL for many machines,
// SQLite for one). It claims queued jobs (FOR UPDATE SKIP LOCKED on PostgreSQL, woken at once by
// LISTEN/NOTIFY), runs up to `concurrency` at a time, heartbeats their leases, stops a job whose
// cancel was requested, and drains on SIGTERM/SIGINT: no new claims; running jobs get
// `drain_timeout` to finish, then they are stopped and handed back to the queue (a second signal
// hands them back at once).
//
// Crash safety: a job whose worker died keeps its lease until it expires; then any worker claims
// it again (attempts + 1). The claimer looks for the job's container on its engine by the
// io.runner.job-id label: a running one is re-attached (JobRunner's reattach mode), an exited one
// gives its exit code; a job that never got a container is simply run; a container that is
// nowhere to be found fails the job with a message saying so. A lease is only ever held by one
// worker, so no job runs twice at the same time.
//
// Threads: one per running job, because JobRunner drives a job's engine streams, timers and stop
// requests from one blocking poll loop on its thread; running N jobs at once needs N such loops.
// Each job thread has its own store connections. The calling thread claims, heartbeats and
// handles signals; it talks to job threads only through each job's EventStopSource and an atomic
// "finished" flag, and wakes on an eventfd the job threads signal when they end.
#pragma once

#include "runner/component.hpp"
#include "runner/job_runner.hpp"
#include "runner/stop_request.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace runner {

struct WorkerOptions {
  std::string store_url;
  int concurrency = 1;
  std::chrono::milliseconds lease{30000};  // heartbeats every lease / 3
  std::chrono::milliseconds drain_timeout{25000};
  std::string worker_id;  // default: host:pid:random
  RunOptions run;         // docker host, project id, ... (stop is set per job)
  KeyLookup find_key;     // decrypts the queued components' ciphertexts
  // The worker's own report lines (job claimed, finished, recovered); default: stdout.
  std::function<void(const std::string&)> report;
  // Stop after this many jobs finished (0: run until stopped); tests and batch use.
  int max_jobs = 0;
};

// Runs the worker until `stop` fires (and the drain is over) or max_jobs finished. Returns the
// process exit code: 0 after a clean drain. Throws StoreUnavailableError when the store cannot
// be opened.
int run_worker(WorkerOptions options, StopSource& stop);

// "host:pid:xxxx" for this process.
std::string default_worker_id();

}  // namespace runner

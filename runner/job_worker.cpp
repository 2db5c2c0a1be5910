// JobWorker: see job_worker.hpp.
#include "runner/job_worker.hpp"

#include "common/host_name.hpp"
#include "docker/engine_client.hpp"
#include "logging/event_log.hpp"
#include "runner/container_gc.hpp"
#include "runner/errors.hpp"
#include "runner/job_outcome.hpp"
#include "runner/retention_setting.hpp"
#include "secrets/config_cipher.hpp"
#include "store/sink_settings.hpp"
#include "store/store.hpp"
#include "store/store_sink.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <list>
#include <random>
#include <thread>

namespace runner {

namespace {

using Clock = std::chrono::steady_clock;

struct RunningJob {
  std::string id;
  std::string component_id;
  EventStopSource stop;
  std::atomic<bool> finished{false};
  std::atomic<bool> handed_back{false};
  bool cancel_sent = false;
  std::string outcome;  // written by the job thread before `finished`
  std::thread thread;
};

// The job's container on this engine, found by its label.
std::optional<std::string> find_job_container(const RunOptions& run, const std::string& job_id) {
  docker::EngineClient client(docker::EngineEndpoint::from_environment(run.docker_host));
  const auto found = client.list_containers({std::string(kLabelJobId) + "=" + job_id});
  if (found.empty()) return std::nullopt;
  return found.front().id;
}

// A job whose outcome is known without running it: its component is invalid, or it was taken
// over from a worker that stopped and its container is gone (then whether it finished is
// unknown). A taken-over job whose container is still there is re-attached through `run`.
bool decide_without_running(const WorkerOptions& options, const store::JobRecord& job,
                            const std::optional<JobOutcome>& invalid, RunOptions& run,
                            logging::JobSummary& summary) {
  if (invalid) {
    summary.status = invalid->status;
    summary.error_type = invalid->error_type;
    summary.exit_code = invalid->exit_code;
    summary.message = invalid->message;
    return true;
  }
  // Claimed again after a lease expired (the store clears a job handed back on purpose).
  if (job.attempts <= 1 && job.container_id.empty() && !job.started_at) return false;
  if (const auto container = find_job_container(options.run, job.id)) {
    run.reattach_container_id = *container;
    return false;
  }
  if (job.container_id.empty() && !job.started_at) return false;
  summary.status = logging::JobStatus::error;
  summary.error_type = logging::ErrorType::internal;
  summary.exit_code = kExitInternal;
  // job.worker_id is this worker's own id by now (the claim wrote it): the one that died is
  // known only by its attempt.
  summary.message = fmt::format(
      "The worker that ran this job before (attempt {}) stopped, and the job's container {} is "
      "not on the engine of worker {}: whether the component finished is unknown",
      job.attempts - 1, job.container_id.empty() ? "(unknown)" : job.container_id.substr(0, 12),
      options.worker_id);
  return true;
}

// Runs one claimed job to its end on the calling (job) thread; every outcome ends up in the
// store through the StoreSink, except a hand-back, which the worker records.
void run_claimed_job(const WorkerOptions& options, store::JobRecord job, RunningJob& running,
                     EventStopSource& wake) {
  const auto started = Clock::now();
  std::string outcome;
  try {
    auto control = store::open_store(options.store_url);
    store::StoreSinkOptions sink_options;
    sink_options.insert_job = false;
    if (const auto home = secrets::runner_home()) sink_options.spool_dir = *home / "spool";
    store::apply_sink_settings(sink_options);  // checked at the worker's start too
    sink_options.skip_finish = &running.handed_back;
    store::StoreSink sink(store::open_store(options.store_url), job, sink_options);
    logging::EventLog events(job.id);
    events.continue_after(job.events_stored);
    events.add_sink(sink);
    events.emit(logging::Level::info, "runner",
                fmt::format("Claimed by worker {}{}", options.worker_id,
                            job.attempts > 1 ? fmt::format(" (attempt {})", job.attempts) : ""));

    // A queued component is decrypted only here, by the worker that runs it.
    ComponentSpec spec;
    std::optional<JobOutcome> invalid;
    try {
      spec = prepare_component(read_component_json(job.spec), options.find_key);
    } catch (...) {
      invalid = classify(std::current_exception());
    }

    RunOptions run = options.run;
    run.stop = &running.stop;
    run.state_store = control.get();  // this thread's connection (Keboola's state)
    run.find_key = options.find_key;
    run.on_container_created = [&](const std::string& container_id) {
      control->set_container(job.id, container_id);
      control->mark_started(job.id, logging::now_utc());
    };

    // The job's outcome may be known without running it.
    logging::JobSummary summary;
    const bool decided = decide_without_running(options, job, invalid, run, summary);
    bool ran = false;
    if (decided) {
      summary.job_id = job.id;
      summary.component_id = job.component_id;
      events.emit(logging::Level::error, "runner", summary.message);
      events.finish(summary);
    } else {
      JobRunner runner(std::move(spec), run, events);
      summary = runner.run();
      ran = true;
    }
    if (auto problem = sink.error()) options.report("warning: job " + job.id + ": " + *problem);
    const std::string status(logging::job_status_name(summary.status));
    outcome =
        running.handed_back.load()
            ? "stopped and handed back to the queue"
            : fmt::format("{}{} in {:.2f} s", status,
                          summary.message.empty() || summary.status == logging::JobStatus::success
                              ? ""
                              : " (" + summary.message.substr(0, 200) + ")",
                          std::chrono::duration<double>(Clock::now() - started).count());
    if (running.handed_back.load() && ran) control->release_job(job.id, options.worker_id);
  } catch (...) {
    outcome = "failed in the worker: " + classify(std::current_exception()).message;
  }
  running.outcome = outcome;
  running.finished.store(true);
  wake.request_stop();
}

}  // namespace

std::string default_worker_id() {
  std::random_device rd;
  return fmt::format("{}:{}:{:04x}", host_name(), ::getpid(), rd() & 0xffff);
}

namespace {

// The worker's loop over its running jobs, one named step per rule: reap ended jobs, take
// signals (drain, then hand back), the heartbeat (leases, cancel requests), claim while there is
// room, wait. The job threads only touch their RunningJob's atomics and the wake eventfd.
class WorkerLoop {
 public:
  WorkerLoop(const WorkerOptions& options, StopSource& stop, store::Store& db)
      : options_(options), report_(options.report), stop_(stop), db_(db) {}

  int run() {
    next_heartbeat_ = Clock::now() + options_.lease / 3;
    for (;;) {
      reap();
      if (options_.max_jobs > 0 && finished_jobs_ >= options_.max_jobs && running_.empty()) break;
      if (draining_ && running_.empty()) break;
      take_signals();
      if (Clock::now() >= next_heartbeat_ && !running_.empty()) heartbeat();
      if (Clock::now() >= next_housekeeping_) housekeeping();
      const bool room = has_room();
      if (!draining_ && room && claim()) continue;  // maybe more room
      wait(!draining_ && room);
    }
    report_(fmt::format("worker {} stopped after {} job(s)", options_.worker_id, finished_jobs_));
    return 0;
  }

 private:
  void reap() {
    for (auto it = running_.begin(); it != running_.end();) {
      if (!it->finished.load()) {
        ++it;
        continue;
      }
      it->thread.join();
      report_(fmt::format("job {} ({}): {}", it->id, it->component_id, it->outcome));
      ++finished_jobs_;
      it = running_.erase(it);
      apply_retention_setting(options_.store_url);  // RUNNER_RETENTION: bounded, after each job
    }
  }

  void hand_back_all() {
    for (auto& job : running_) {
      if (job.handed_back.exchange(true)) continue;
      job.stop.request_stop();
    }
  }

  // Signals: the first drains, a second hands the running jobs back at once; so does the end of
  // the drain timeout.
  void take_signals() {
    pollfd pfd{stop_.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) > 0) {
      if (auto request = stop_.take()) {
        if (!draining_) {
          draining_ = true;
          drain_deadline_ = Clock::now() + options_.drain_timeout;
          report_(fmt::format("{}: draining: no new jobs; {} running job(s) get {} ms to finish",
                              request->reason, running_.size(), options_.drain_timeout.count()));
        } else {
          report_(
              fmt::format("{} again: handing the running jobs back to the queue", request->reason));
          hand_back_all();
        }
      }
    }
    if (draining_ && Clock::now() >= drain_deadline_) {
      report_("drain timeout: handing the running jobs back to the queue");
      hand_back_all();
      drain_deadline_ = Clock::time_point::max();
    }
  }

  // Heartbeat: extend the leases, pass cancel requests on.
  void heartbeat() {
    std::vector<std::string> ids;
    for (const auto& job : running_)
      if (!job.finished.load()) ids.push_back(job.id);
    try {
      const auto beat = db_.heartbeat(options_.worker_id, ids, options_.lease);
      for (const auto& id : beat.cancel_requested) {
        for (auto& job : running_) {
          if (job.id != id || job.cancel_sent) continue;
          job.cancel_sent = true;
          report_(fmt::format("job {}: cancel requested, stopping its container", id));
          job.stop.request_stop();
        }
      }
      for (const auto& id : beat.lost)
        report_(
            fmt::format("warning: job {}: the lease was lost (another worker or a cancel took "
                        "it over)",
                        id));
    } catch (const std::exception& e) {
      report_(std::string("warning: heartbeat failed: ") + e.what());
    }
    next_heartbeat_ = Clock::now() + options_.lease / 3;
  }

  // Housekeeping: jobs whose workers kept dying end (with their containers on this engine)
  // instead of being claimed forever.
  void housekeeping() {
    next_housekeeping_ =
        Clock::now() + std::max(options_.lease / 3, std::chrono::milliseconds(100));
    std::vector<store::JobRecord> ended;
    try {
      ended = db_.end_exhausted_jobs();
    } catch (const std::exception& e) {
      report_(std::string("warning: housekeeping failed: ") + e.what());
    }
    for (const auto& job : ended) {
      report_(fmt::format("job {} ({}): error ({})", job.id, job.component_id, job.message));
      remove_job_container(job.id);
    }
    // `runner run` jobs on this host whose runner died (their containers are `runner gc`'s).
    try {
      const auto salvage = [&](store::JobRecord& job) { store_spooled_events(db_, job, report_); };
      record_spooled_jobs(db_, report_);
      for (const auto& job :
           store::end_jobs_of_dead_runners(db_, host_name(), process_alive, salvage))
        report_(fmt::format("job {} ({}): error ({})", job.id, job.component_id, job.message));
    } catch (const std::exception& e) {
      report_(std::string("warning: housekeeping failed: ") + e.what());
    }
  }

  void remove_job_container(const std::string& job_id) {
    try {
      if (const auto container = find_job_container(options_.run, job_id)) {
        docker::EngineClient client(
            docker::EngineEndpoint::from_environment(options_.run.docker_host));
        client.remove_container(*container);
        report_(fmt::format("job {}: removed its container {}", job_id, container->substr(0, 12)));
      }
    } catch (const std::exception& e) {
      report_(fmt::format("warning: job {}: its container was not removed: {}", job_id, e.what()));
    }
  }

  bool has_room() const {
    const int running = static_cast<int>(running_.size());
    return running < options_.concurrency &&
           (options_.max_jobs == 0 || finished_jobs_ + running < options_.max_jobs);
  }

  // Claims one queued job and starts its thread; false when there was none (or claiming failed).
  bool claim() {
    std::optional<store::JobRecord> job;
    try {
      job = db_.claim_job(options_.worker_id, options_.lease);
    } catch (const std::exception& e) {
      report_(std::string("warning: claiming failed: ") + e.what());
    }
    if (!job) return false;
    auto& slot = running_.emplace_back();
    slot.id = job->id;
    slot.component_id = job->component_id;
    report_(fmt::format("job {} ({}, namespace {}, priority {}): {}", job->id, job->component_id,
                        job->namespace_name, job->priority,
                        job->attempts > 1 ? fmt::format("claimed (attempt {})", job->attempts)
                                          : std::string("claimed")));
    // A thread per job: a job blocks on its container's streams for its whole life.
    slot.thread = std::thread(run_claimed_job, std::cref(options_), std::move(*job), std::ref(slot),
                              std::ref(wake_));
    return true;
  }

  // Wait for a job to be queued, a job to end, a signal, or the next heartbeat.
  void wait(bool for_jobs) {
    const auto until_heartbeat =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat_ - Clock::now());
    auto wait =
        std::clamp(until_heartbeat, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    if (for_jobs) {
      // The store's wait returns on NOTIFY (PostgreSQL) or after a short poll (SQLite), and at
      // once when a job thread ends (the eventfd); a signal is seen within `wait` (<= 1 s).
      try {
        db_.wait_for_jobs(wait, wake_.fd());
      } catch (const std::exception& e) {
        report_(std::string("warning: waiting for jobs failed: ") + e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    } else {
      std::array<pollfd, 2> fds{pollfd{wake_.fd(), POLLIN, 0}, pollfd{stop_.fd(), POLLIN, 0}};
      ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    }
    (void)wake_.take();
  }

  const WorkerOptions& options_;
  const std::function<void(const std::string&)> report_;
  StopSource& stop_;
  store::Store& db_;
  EventStopSource wake_;  // job threads trigger this eventfd as they end, so wait() wakes at once
  std::list<RunningJob> running_;
  int finished_jobs_ = 0;
  bool draining_ = false;
  Clock::time_point drain_deadline_ = Clock::time_point::max();
  Clock::time_point next_heartbeat_;
  Clock::time_point next_housekeeping_;
};

}  // namespace

int run_worker(WorkerOptions options, StopSource& stop) {
  if (options.worker_id.empty()) options.worker_id = default_worker_id();
  if (!options.report)
    options.report = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
  if (options.concurrency < 1) throw UsageError("--concurrency: expected at least 1");
  store::StoreSinkOptions settings;
  store::apply_sink_settings(
      settings);  // RUNNER_STORE_RETRY_SECONDS, ...: exit 64 now, not per job
  std::unique_ptr<store::Store> db;
  try {
    db = store::open_store(options.store_url);
  } catch (const std::exception& e) {
    throw StoreUnavailableError(e.what());
  }
  options.report(fmt::format("worker {} on {}: up to {} job(s) at once, lease {} ms",
                             options.worker_id, db->describe(), options.concurrency,
                             options.lease.count()));
  return WorkerLoop(options, stop, *db).run();
}

}  // namespace runner

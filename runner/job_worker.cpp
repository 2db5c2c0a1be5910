// JobWorker: see job_worker.hpp.
#include "runner/job_worker.hpp"

#include "common/host_name.hpp"
#include "docker/engine_client.hpp"
#include "logging/event_log.hpp"
#include "runner/errors.hpp"
#include "runner/job_outcome.hpp"
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
    run.on_container_created = [&](const std::string& container_id) {
      control->set_container(job.id, container_id);
      control->mark_started(job.id, logging::now_utc());
    };

    logging::JobSummary summary;
    bool decided = false;  // the job's outcome is known without running it
    bool ran = false;
    if (invalid) {
      decided = true;
      summary.status = invalid->status;
      summary.error_type = invalid->error_type;
      summary.exit_code = invalid->exit_code;
      summary.message = invalid->message;
    } else if (job.attempts > 1 || !job.container_id.empty() || job.started_at) {
      // Claimed again after a lease expired (the store clears a job handed back on purpose).
      // A job taken over from a worker that stopped heartbeating.
      const auto container = find_job_container(options.run, job.id);
      if (container) {
        run.reattach_container_id = *container;
      } else if (!job.container_id.empty() || job.started_at) {
        decided = true;
        summary.status = logging::JobStatus::error;
        summary.error_type = logging::ErrorType::internal;
        summary.exit_code = kExitInternal;
        // job.worker_id is this worker's own id by now (the claim wrote it): the one that died
        // is known only by its attempt.
        summary.message = fmt::format(
            "The worker that ran this job before (attempt {}) stopped, and the job's container {} "
            "is not on the engine of worker {}: whether the component finished is unknown",
            job.attempts - 1,
            job.container_id.empty() ? "(unknown)" : job.container_id.substr(0, 12),
            options.worker_id);
      }
    }
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

int run_worker(WorkerOptions options, StopSource& stop) {
  if (options.worker_id.empty()) options.worker_id = default_worker_id();
  if (!options.report)
    options.report = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
  if (options.concurrency < 1) throw UsageError("--concurrency: expected at least 1");
  std::unique_ptr<store::Store> db;
  try {
    db = store::open_store(options.store_url);
  } catch (const std::exception& e) {
    throw StoreUnavailableError(e.what());
  }
  const auto report = options.report;
  report(fmt::format("worker {} on {}: up to {} job(s) at once, lease {} ms", options.worker_id,
                     db->describe(), options.concurrency, options.lease.count()));

  // Job threads trigger this eventfd as they end, so the wait below wakes at once.
  EventStopSource wake;
  std::list<RunningJob> running;
  int finished_jobs = 0;
  bool draining = false;
  Clock::time_point drain_deadline = Clock::time_point::max();
  Clock::time_point next_heartbeat = Clock::now() + options.lease / 3;

  auto reap = [&] {
    for (auto it = running.begin(); it != running.end();) {
      if (!it->finished.load()) {
        ++it;
        continue;
      }
      it->thread.join();
      report(fmt::format("job {} ({}): {}", it->id, it->component_id, it->outcome));
      ++finished_jobs;
      it = running.erase(it);
    }
  };
  auto hand_back_all = [&] {
    for (auto& job : running) {
      if (job.handed_back.exchange(true)) continue;
      job.stop.request_stop();
    }
  };

  for (;;) {
    reap();
    if (options.max_jobs > 0 && finished_jobs >= options.max_jobs && running.empty()) break;
    if (draining && running.empty()) break;

    // Signals: the first drains, a second hands the running jobs back at once.
    pollfd pfd{stop.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 0) > 0) {
      if (auto request = stop.take()) {
        if (!draining) {
          draining = true;
          drain_deadline = Clock::now() + options.drain_timeout;
          report(fmt::format("{}: draining: no new jobs; {} running job(s) get {} ms to finish",
                             request->reason, running.size(), options.drain_timeout.count()));
        } else {
          report(
              fmt::format("{} again: handing the running jobs back to the queue", request->reason));
          hand_back_all();
        }
      }
    }
    if (draining && Clock::now() >= drain_deadline) {
      report("drain timeout: handing the running jobs back to the queue");
      hand_back_all();
      drain_deadline = Clock::time_point::max();
    }

    // Heartbeat: extend the leases, pass cancel requests on.
    if (Clock::now() >= next_heartbeat && !running.empty()) {
      std::vector<std::string> ids;
      for (const auto& job : running)
        if (!job.finished.load()) ids.push_back(job.id);
      try {
        const auto beat = db->heartbeat(options.worker_id, ids, options.lease);
        for (const auto& id : beat.cancel_requested) {
          for (auto& job : running) {
            if (job.id != id || job.cancel_sent) continue;
            job.cancel_sent = true;
            report(fmt::format("job {}: cancel requested, stopping its container", id));
            job.stop.request_stop();
          }
        }
        for (const auto& id : beat.lost)
          report(
              fmt::format("warning: job {}: the lease was lost (another worker or a cancel took "
                          "it over)",
                          id));
      } catch (const std::exception& e) {
        report(std::string("warning: heartbeat failed: ") + e.what());
      }
      next_heartbeat = Clock::now() + options.lease / 3;
    }

    // Claim while there is room.
    const bool room = static_cast<int>(running.size()) < options.concurrency &&
                      (options.max_jobs == 0 ||
                       finished_jobs + static_cast<int>(running.size()) < options.max_jobs);
    if (!draining && room) {
      std::optional<store::JobRecord> job;
      try {
        job = db->claim_job(options.worker_id, options.lease);
      } catch (const std::exception& e) {
        report(std::string("warning: claiming failed: ") + e.what());
      }
      if (job) {
        auto& slot = running.emplace_back();
        slot.id = job->id;
        slot.component_id = job->component_id;
        report(fmt::format("job {} ({}, namespace {}, priority {}): {}", job->id, job->component_id,
                           job->namespace_name, job->priority,
                           job->attempts > 1 ? fmt::format("claimed (attempt {})", job->attempts)
                                             : std::string("claimed")));
        slot.thread = std::thread(run_claimed_job, std::cref(options), std::move(*job),
                                  std::ref(slot), std::ref(wake));
        continue;  // maybe more room
      }
    }

    // Wait for a job to be queued, a job to end, a signal, or the next heartbeat.
    const auto until_heartbeat =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat - Clock::now());
    auto wait =
        std::clamp(until_heartbeat, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    if (!draining && room) {
      // The store's wait returns on NOTIFY (PostgreSQL) or after a short poll (SQLite), and at
      // once when a job thread ends (the eventfd); a signal is seen within `wait` (<= 1 s).
      try {
        db->wait_for_jobs(wait, wake.fd());
      } catch (const std::exception& e) {
        report(std::string("warning: waiting for jobs failed: ") + e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    } else {
      std::array<pollfd, 2> fds{pollfd{wake.fd(), POLLIN, 0}, pollfd{stop.fd(), POLLIN, 0}};
      ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    }
    (void)wake.take();
  }
  report(fmt::format("worker {} stopped after {} job(s)", options.worker_id, finished_jobs));
  return 0;
}

}  // namespace runner

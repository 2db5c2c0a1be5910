// JobRunner: runs one job (a component in a container) and turns everything it says into events
// and one summary.
//
// A job is a short driver over named phases (execute): connect to the engine; check the limits
// the engine judges; make the working folder (JobWorkspace: /data and /tmp); run the container
// (ContainerRun: create, attach, start, drain, inspect, remove, with the stop schedule), or take
// over the job's existing container when its worker stopped; judge the outcome (Keboola's exit
// rules, job_outcome.hpp). Any exception on the way becomes the summary through classify().
//
// Stream path (StreamRules, per run): attach bytes -> demultiplexer -> secret scrubber (one per
// stream) -> line splitter -> Kestra protocol parser -> stdout: info events (live) or held (GELF
// mode); stderr: bounded head/tail buffer -> one error event at the end (Keboola's rule). Every
// other text (runner's messages, engine errors, the result message) passes the same scrubber
// through the event log's filter.
#pragma once

#include "logging/event_log.hpp"
#include "runner/component.hpp"
#include "runner/stop_request.hpp"
#include "secrets/masker.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace runner::docker {
struct EngineEndpoint;
}

namespace runner {

class JobWorkspace;
struct NewContainer;
struct RunReport;
struct RunEnvironment;
struct JobPlan;
struct ChainRun;
struct Stage;

struct RunOptions {
  std::optional<std::string> docker_host;  // else DOCKER_HOST, else /var/run/docker.sock
  std::optional<std::filesystem::path> data_dir;
  bool keep_data = false;
  std::string project_id = "local";
  std::string branch_id = "default";
  std::string stack_id = "local";
  std::string run_mode = "run";
  StopSource* stop = nullptr;  // optional; checked throughout the run
  int stop_grace_seconds = 2;  // SIGTERM to the container, then SIGKILL
  // Called with the container id right after it is created (a worker records it in the store).
  std::function<void(const std::string&)> on_container_created;
  // Recovery: take over this existing container of the job (its worker died) instead of creating
  // one. A running container is re-attached (output from now on; what it printed while nobody
  // was attached is lost, as the engine keeps no log with LogConfig none); an exited one only
  // gives its exit code. The job's timeout counts from the take-over.
  std::optional<std::string> reattach_container_id;
  // How /data reaches the container; nullopt (or automatic): the component's file_handling, else
  // by the engine's address (docs/engines.md).
  std::optional<FileHandling> file_handling;
  // GELF logging: where the job's server listens, and the address the container is told
  // (KBC_LOGGER_ADDR; default the bind address). Unset: the engine's bridge gateway, which only
  // an engine on this machine has; a tcp:// engine needs gelf_bind.
  std::optional<std::string> gelf_bind;
  std::optional<std::string> gelf_advertise;
  // Configuration rows (job_stages.hpp): run only this row, disabled or not (`--row ID`).
  std::optional<std::string> row;
};

// Labels put on every container runner starts.
inline constexpr const char* kLabelJobId = "io.runner.job-id";
inline constexpr const char* kLabelComponentId = "io.runner.component-id";
inline constexpr const char* kLabelVersion = "io.runner.version";
inline constexpr const char* kLabelManaged = "io.runner.managed";
inline constexpr const char* kLabelHost = "io.runner.host";
inline constexpr const char* kLabelPid = "io.runner.pid";
// The engine address the runner used (docs/engines.md): `runner gc` and a worker's take-over ask
// that engine, and the label says which one a container was started through.
inline constexpr const char* kLabelEngine = "io.runner.engine";

const char* runner_version();

class JobRunner {
 public:
  JobRunner(ComponentSpec spec, RunOptions options, logging::EventLog& events);
  // Runs the job to its end. Never throws: every failure becomes the summary's status, exit
  // code and message (and the summary is also sent to the event sinks).
  logging::JobSummary run();
  // A sync action that succeeded (sync_action.hpp): the JSON document it printed on stdout.
  const std::optional<std::string>& action_response() const { return response_; }

 private:
  void execute(logging::JobSummary& summary);
  void announce(const JobWorkspace& workspace);
  void judge_response(const RunReport& report, logging::JobSummary& summary);
  // The job's container runs (job_chain.cpp): every row's chain of stages, in order.
  void run_plan(RunEnvironment& env, logging::JobSummary& summary);
  bool run_chain(RunEnvironment& env, const JobPlan& plan, const ChainRun& run,
                 logging::JobSummary& summary);
  bool run_stage(RunEnvironment& env, const JobPlan& plan, const ChainRun& run, const Stage& stage,
                 const JobWorkspace& workspace, logging::JobSummary& summary);
  NewContainer new_container(const ComponentSpec& spec, const Stage& stage, const ChainRun& run,
                             bool tagged, const JobWorkspace& workspace,
                             const docker::EngineEndpoint& engine) const;

  ComponentSpec spec_;
  RunOptions options_;
  logging::EventLog& events_;
  secrets::Masker masker_;  // the job's secrets
  // The job's container from its creation until its removal succeeded: when the run ends with
  // it still set (the engine went away), the summary says the container may still exist.
  std::string container_left_;
  std::optional<std::string> response_;
};

// The Keboola-shaped configuration written to /data/config.json.
nlohmann::json keboola_config(const ComponentSpec& spec);

}  // namespace runner

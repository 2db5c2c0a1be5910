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
#include "runner/data_dir_access.hpp"
#include "runner/stop_request.hpp"
#include "secrets/masker.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace runner::docker {
struct EngineEndpoint;
}
namespace runner::store {
class Store;
}
namespace runner::logging {
class KestraResults;
}

namespace runner {

class JobWorkspace;
class StatePhase;
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
  // --clean-out: remove what an earlier run left in DATA_DIR/out before this one (else reported).
  bool clean_out = false;
  std::string project_id = "local";
  std::string branch_id = "default";
  std::string stack_id = "local";
  std::string run_mode = "run";  // KBC_COMPONENT_RUN_MODE: run | debug (keboola_env.hpp)
  std::string staging_file_provider = "local";  // KBC_STAGING_FILE_PROVIDER
  std::vector<std::string> feature_gates;       // KBC_PROJECT_FEATURE_GATES
  // The configuration row this run is (KBC_CONFIGROWID, and the row's own state): set per row by
  // a caller that runs a configuration's rows.
  std::optional<std::string> row_id;
  // Image pulls: attempts before giving up, backoff from 0.5 s doubling up to 60 s between them
  // (Keboola's Image.php); a stop request ends the wait and the pull itself.
  int pull_attempts = 20;
  // Keboola's state (component_state.hpp): kept in this store, which the caller owns and only
  // this job's thread uses (nullptr: no store, every run starts from {}); `find_key` gives
  // runner's key for its '#' values. use_stored_state: with data_dir, the stored state replaces
  // DIR/in/state.json (else the user's file is used as they left it).
  store::Store* state_store = nullptr;
  KeyLookup find_key;
  bool use_stored_state = false;
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
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;
  // Runs the job to its end. Never throws: every failure becomes the summary's status, exit
  // code and message (and the summary is also sent to the event sinks).
  logging::JobSummary run();
  // A sync action that succeeded (sync_action.hpp): the JSON document it printed on stdout.
  const std::optional<std::string>& action_response() const { return response_; }

 private:
  void prepare();
  void execute(logging::JobSummary& summary);
  void take_over(RunEnvironment& env, logging::JobSummary& summary);
  void after_run(const JobWorkspace& workspace, StatePhase& state, logging::JobSummary& summary);
  void finish_summary(const logging::KestraResults& results, logging::JobSummary& summary);
  void announce(const JobWorkspace& workspace);
  void judge_response(const RunReport& report, logging::JobSummary& summary);
  // The job's container runs (job_chain.cpp): every row's chain of stages, in order.
  void run_plan(RunEnvironment& env, logging::JobSummary& summary);
  ContainerUser stages_user(RunEnvironment& env, const JobPlan& plan);
  bool run_chain(RunEnvironment& env, const JobPlan& plan, const ChainRun& run,
                 const ContainerUser& user, logging::JobSummary& summary);
  bool run_stages(RunEnvironment& env, const JobPlan& plan, const ChainRun& run,
                  const JobWorkspace& workspace, logging::JobSummary& summary);
  StatePhase& chain_state(const ChainRun& run, std::optional<StatePhase>& row_state);
  nlohmann::json chain_config(const Stage& stage, const ChainRun& run) const;
  static void record_failure(std::exception_ptr error, logging::JobSummary& summary);
  bool run_stage(RunEnvironment& env, const JobPlan& plan, const ChainRun& run, const Stage& stage,
                 const JobWorkspace& workspace, logging::JobSummary& summary);
  NewContainer new_container(const ComponentSpec& spec, const Stage& stage, const ChainRun& run,
                             bool tagged, const JobWorkspace& workspace,
                             const docker::EngineEndpoint& engine) const;

  ComponentSpec spec_;
  RunOptions options_;
  logging::EventLog& events_;
  JobConfig config_;  // what /data/config.json is (data_dir_access.hpp)
  std::unique_ptr<StatePhase> state_;
  secrets::Masker masker_;  // the job's secrets
  // The job's container from its creation until its removal succeeded: when the run ends with
  // it still set (the engine went away), the summary says the container may still exist.
  std::string container_left_;
  std::optional<std::string> response_;
};

// The Keboola-shaped configuration written to /data/config.json.
nlohmann::json keboola_config(const ComponentSpec& spec);

}  // namespace runner

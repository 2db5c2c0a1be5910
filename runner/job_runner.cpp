// JobRunner: see the header. run() wraps execute() so that every failure becomes the summary;
// execute() is the list of the job's phases, each a function below.
#include "runner/job_runner.hpp"

#include "common/host_name.hpp"
#include "docker/engine_client.hpp"
#include "docker/engine_errors.hpp"
#include "logging/kestra_results.hpp"
#include "runner/component_state.hpp"
#include "runner/container_run.hpp"
#include "runner/container_user.hpp"
#include "runner/data_dir_access.hpp"
#include "runner/errors.hpp"
#include "runner/image_accounts.hpp"
#include "runner/job_chain.hpp"
#include "runner/job_outcome.hpp"
#include "runner/job_workspace.hpp"
#include "runner/keboola_env.hpp"
#include "runner/sync_action.hpp"
#include "runner/usage_file.hpp"
#include "runner/workspace_copy.hpp"
#include "secrets/secret_scrubber.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace runner {
namespace {

using Clock = std::chrono::steady_clock;
using logging::ErrorType;
using logging::JobStatus;
using logging::Level;

KeboolaContext keboola_context(const RunOptions& options, const std::string& job_id,
                               const std::string& config_id) {
  KeboolaContext context;
  context.job_id = job_id;
  context.config_id = config_id;
  context.project_id = options.project_id;
  context.branch_id = options.branch_id;
  context.stack_id = options.stack_id;
  context.run_mode = options.run_mode;
  context.staging_file_provider = options.staging_file_provider;
  context.feature_gates = options.feature_gates;
  context.row_id = options.row_id;
  return context;
}

docker::ContainerConfig container_config(const ComponentSpec& spec, const RunOptions& options,
                                         const JobWorkspace& workspace, const std::string& job_id,
                                         const std::string& config_id, FileHandling handling,
                                         const std::string& engine) {
  docker::ContainerConfig cfg;
  cfg.image = spec.image;
  cfg.cmd = spec.command;
  cfg.entrypoint = spec.entrypoint;
  cfg.env = keboola_environment(spec, keboola_context(options, job_id, config_id));
  cfg.labels = spec.labels;
  cfg.labels[kLabelJobId] = job_id;
  cfg.labels[kLabelComponentId] = spec.id;
  cfg.labels[kLabelVersion] = runner_version();
  cfg.labels[kLabelManaged] = "true";
  cfg.labels[kLabelHost] = host_name();
  cfg.labels[kLabelPid] = std::to_string(::getpid());
  cfg.labels[kLabelEngine] = engine;
  cfg.user = spec.user;
  // By copy, /data arrives through the archive API and /tmp is the image's own.
  if (handling == FileHandling::mount)
    cfg.binds = {workspace.data_dir().string() + ":/data", workspace.tmp_dir().string() + ":/tmp"};
  cfg.memory_bytes = spec.limits.memory_bytes;
  cfg.memory_swap_bytes = spec.limits.memory_swap_bytes;
  if (spec.limits.cpus) cfg.nano_cpus = std::llround(*spec.limits.cpus * 1e9);
  if (spec.limits.pids) cfg.pids_limit = *spec.limits.pids;
  cfg.network_mode = spec.network;
  cfg.log_driver = "none";
  // Isolation between jobs (docs/component.md, "security"): no raw sockets, so a container
  // cannot forge another one's source address; setuid binaries gain nothing.
  cfg.cap_add = spec.security.cap_add;
  for (const char* dropped : {"NET_RAW"})
    if (std::find(cfg.cap_add.begin(), cfg.cap_add.end(), dropped) == cfg.cap_add.end())
      cfg.cap_drop.emplace_back(dropped);
  if (spec.security.no_new_privileges) cfg.security_opt.emplace_back("no-new-privileges");
  return cfg;
}

std::optional<docker::RegistryAuth> registry_auth(const ComponentSpec& spec) {
  if (!spec.auth) return std::nullopt;
  return docker::RegistryAuth{spec.auth->username, spec.auth->password, spec.auth->server};
}

docker::EngineClient connect_engine(const RunOptions& options) {
  docker::EngineEndpoint endpoint;
  try {
    endpoint = docker::EngineEndpoint::from_environment(options.docker_host);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  docker::EngineClient client(endpoint);
  client.negotiate();
  return client;
}

// The engine refuses more CPUs than its host has; say so as the config error it is, before
// anything is created (component.cpp can only check an absolute bound).
void check_cpu_limit(docker::EngineClient& client, const ComponentSpec& spec) {
  if (!spec.limits.cpus) return;
  int host_cpus = 0;
  try {
    host_cpus = client.cpu_count();
  } catch (const docker::EngineApiError&) {
    host_cpus = 0;  // an engine (or proxy) that does not answer /info: the engine will judge
  }
  if (host_cpus > 0 && *spec.limits.cpus > host_cpus)
    throw ConfigError({"$.limits.cpus: expected at most " + std::to_string(host_cpus) +
                       " (the CPUs of the engine's host), got " +
                       nlohmann::json(*spec.limits.cpus).dump()});
}

}  // namespace

// Who the container runs as: the component's `user`, else the image's USER; an image that is
// not there yet (it is pulled when the container is made) leaves it unknown. A name is looked up
// in the image's own /etc/passwd (image_accounts.hpp), so the folders can be given to its uid.
ContainerUser container_user(docker::EngineClient& client, const ComponentSpec& spec,
                             logging::EventLog& events) {
  ContainerUser user;
  if (!spec.user.empty()) {
    user = resolve_container_user(spec.user, std::nullopt);
  } else {
    try {
      user = resolve_container_user("", client.image_user(spec.image));
    } catch (const docker::EngineApiError&) {
      user = resolve_container_user("", std::nullopt);
    }
  }
  if (user.kind != UserKind::named) return user;
  // Labelled like a job's container (but with no job id: a worker's take-over must not mistake
  // it for the job's), so `runner gc` removes it if this runner dies before it does.
  const std::map<std::string, std::string> labels = {{kLabelManaged, "true"},
                                                     {kLabelComponentId, spec.id},
                                                     {kLabelVersion, runner_version()},
                                                     {kLabelHost, host_name()},
                                                     {kLabelPid, std::to_string(::getpid())},
                                                     {kLabelEngine, client.endpoint().display}};
  std::string why_not;
  ContainerUser mapped = map_user_through_image(
      client, spec.image, user, "runner-" + events.job_id() + "-accounts", labels, why_not);
  if (mapped.kind == UserKind::named)
    events.emit(Level::debug, "runner",
                "The container's " + user.describe() + " is not mapped to a host uid (" + why_not +
                    "): its folders are opened below the private 0700 folder instead");
  return mapped;
}

namespace {

// --data-dir before the run: outputs an earlier run left in DIR/out are removed (--clean-out) or
// reported, never silently mixed with this run's.
void check_stale_outputs(const std::filesystem::path& data_dir, bool clean,
                         logging::EventLog& events) {
  const OutputsFound found = existing_outputs(data_dir);
  if (found.files == 0) return;
  if (clean) {
    const std::size_t removed = clear_outputs(data_dir);
    events.emit(Level::info, "runner",
                "--clean-out: removed " + std::to_string(removed) +
                    " entr(ies) an earlier run "
                    "left in " +
                    (data_dir / "out").string());
    return;
  }
  events.emit(Level::warning, "runner",
              (data_dir / "out").string() + " already holds " + std::to_string(found.files) +
                  " file(s) from an earlier run (such as " + found.example +
                  "): they stay and mix with this run's outputs; --clean-out removes them first");
}

}  // namespace

// The summary of a run that ended: terminated by a stop request, or judged by its exit.
void judge(const RunReport& report, const ComponentSpec& spec, int timeout_seconds,
           double elapsed_seconds, logging::EventLog& events, logging::JobSummary& summary) {
  summary.container_exit_code = report.exit_code;
  if (report.stopped) {
    events.emit(Level::warning, "runner",
                std::string("Job terminated by ") + report.stopped->reason +
                    (report.stopped_before_start ? " before it started" : ""));
    summary.status = JobStatus::terminated;
    summary.exit_code = report.stopped->exit_code;
    summary.message = std::string("Terminated by ") + report.stopped->reason;
    return;
  }
  ExitFacts facts;
  facts.exit_code = report.exit_code.value_or(0);
  facts.oom_killed = report.oom_killed;
  facts.timed_out = report.timed_out;
  facts.timeout_seconds = timeout_seconds;
  facts.elapsed_seconds = elapsed_seconds;
  facts.memory_limit = spec.limits.memory_text;
  facts.no_application_errors = spec.logging.no_application_errors;
  facts.stderr_text = report.texts.stderr_text;
  facts.stdout_text = report.texts.stdout_text;
  facts.gelf_error = report.gelf_error;
  JobOutcome outcome = classify_exit(facts);
  if (report.gelf_oversize)
    outcome = {JobStatus::error, ErrorType::user, kExitUserError,
               "The component sent a GELF message over the 200 KB limit: " + *report.gelf_oversize};
  if (report.outputs_lost && outcome.status == JobStatus::success)
    outcome = {JobStatus::error, ErrorType::user, kExitUserError, *report.outputs_lost};
  summary.status = outcome.status;
  summary.error_type = outcome.error_type;
  summary.exit_code = outcome.exit_code;
  summary.message = outcome.message;
}

const char* runner_version() {
  return RUNNER_VERSION;
}

nlohmann::json keboola_config(const ComponentSpec& spec) {
  return {{"parameters", spec.parameters},
          {"image_parameters", spec.image_parameters},
          {"authorization", spec.authorization},
          {"action", spec.action},
          {"storage", spec.storage}};
}

JobRunner::JobRunner(ComponentSpec spec, RunOptions options, logging::EventLog& events)
    : spec_(std::move(spec)), options_(std::move(options)), events_(events) {}

JobRunner::~JobRunner() = default;

// What is decided before the masker exists, because it finds secrets: the configuration (a
// user's config.json) and the input state (decrypted).
void JobRunner::prepare() {
  config_ = choose_config(spec_, keboola_config(spec_), options_.data_dir);
  spec_.secrets.insert(spec_.secrets.end(), config_.secrets.begin(), config_.secrets.end());
  StateOptions state;
  state.store = options_.state_store;
  state.find_key = options_.find_key;
  // A take-over of a single-stage job reads and saves the state like a normal run (take_over).
  state.enabled = spec_.action == "run" && (!options_.reattach_container_id || !is_chain(spec_));
  state.save = options_.run_mode == "run";
  state.data_dir = options_.data_dir;
  state.use_stored_state = options_.use_stored_state;
  state_ = std::make_unique<StatePhase>(
      state, store::StateKey{spec_.id, spec_.config_id, options_.row_id.value_or("")}, events_);
  state_->load();
  spec_.secrets.insert(spec_.secrets.end(), state_->secrets().begin(), state_->secrets().end());
}

// After the container's run: the usage file (whatever the outcome), then, for a successful run,
// the new state. A wrong usage file or state file fails a job that had succeeded.
void JobRunner::after_run(const JobWorkspace& workspace, StatePhase& state,
                          logging::JobSummary& summary) {
  auto fail = [&](const std::string& message) {
    events_.emit(Level::error, "runner", message);
    if (summary.status != JobStatus::success) return;
    summary.status = JobStatus::error;
    summary.error_type = ErrorType::user;
    summary.exit_code = kExitUserError;
    summary.message = message;
  };
  const UsageRead usage = read_usage_file(workspace.data_dir());
  if (usage.problem) fail("Invalid usage file: " + *usage.problem);
  // A job of several rows reports every row's metrics: each chain's file adds to the job's list.
  if (usage.usage) {
    if (!summary.usage) summary.usage = nlohmann::json::array();
    for (const auto& item : *usage.usage) summary.usage->push_back(item);
  }
  if (summary.status != JobStatus::success) return;
  std::vector<std::string> found;
  try {
    const StateChange change = state.save(workspace, found);
    if (change != StateChange::none) summary.state_change = state_change_name(change);
  } catch (const UserError& e) {
    fail(e.what());
  }
  if (found.empty()) return;
  // What the component left in its state under '#' keys is a secret from now on, too.
  spec_.secrets.insert(spec_.secrets.end(), found.begin(), found.end());
  masker_ = secrets::Masker(spec_.secrets);
  events_.set_masker(masker_);
}

logging::JobSummary JobRunner::run() {
  const auto started = Clock::now();
  logging::JobSummary summary;
  summary.component_id = spec_.id;
  std::exception_ptr early;  // a failure before the masker exists: reported like any other
  try {
    prepare();
  } catch (...) {
    early = std::current_exception();
  }
  // From here on no text reaches a sink unmasked: the stream path masks what it decodes and the
  // lines it passes, the event log everything else.
  if (!spec_.secrets.empty()) {
    masker_ = secrets::Masker(spec_.secrets);
    events_.set_masker(masker_);
    const auto short_ones = secrets::short_secrets(spec_.secrets);
    if (!short_ones.empty())
      events_.emit(Level::warning, "runner",
                   std::to_string(short_ones.size()) +
                       " secret(s) are only 1 or 2 characters long: every occurrence of them in "
                       "the output will show as [hidden]");
  }
  try {
    if (early) std::rethrow_exception(early);
    execute(summary);
  } catch (...) {
    const JobOutcome failure = classify(std::current_exception());
    summary.status = failure.status;
    summary.error_type = failure.error_type;
    summary.exit_code = failure.exit_code;
    summary.message = failure.message;
  }
  if (!container_left_.empty()) {
    // The engine went away with the container in it: when the engine comes back, the container
    // may still be there (even running), and nothing of this runner will be left to remove it.
    const std::string note =
        "the job's container " + container_left_.substr(0, 12) +
        " could not be removed and may still be running when the engine is back: `runner gc` "
        "removes it once this runner has exited";
    events_.emit(Level::warning, "runner", "The container may be left behind: " + note);
    summary.message += summary.message.empty() ? note : "; " + note;
  }
  summary.duration_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  try {
    summary = events_.finish(summary);  // a copy: a failing sink leaves this one
  } catch (
      ...) {  // NOLINT(bugprone-empty-catch): run() never throws; a failing sink loses its summary
    summary.message = events_.mask(summary.message);
    events_.masker().mask_in_place(summary.outputs);
    events_.masker().mask_in_place(summary.metrics);
    events_.masker().mask_in_place(summary.assets);
    summary.job_id = events_.job_id();
  }
  return summary;
}

void JobRunner::execute(logging::JobSummary& summary) {
  docker::EngineClient client = connect_engine(options_);
  logging::KestraResults results;
  JobDeadline deadline(std::chrono::seconds(job_timeout_seconds(spec_)));
  RunEnvironment env{client,
                     events_,
                     masker_,
                     results,
                     deadline,
                     options_.stop,
                     std::chrono::seconds(options_.stop_grace_seconds),
                     options_.on_container_created,
                     &container_left_,
                     is_sync_action(spec_)};
  if (options_.reattach_container_id) {
    take_over(env, summary);
  } else {
    for (const ComponentSpec* spec : all_specs(spec_)) check_cpu_limit(client, *spec);
    if (options_.data_dir) check_stale_outputs(*options_.data_dir, options_.clean_out, events_);
    run_plan(env, summary);
  }
  finish_summary(results, summary);
}

// A worker's take-over of the job's container (its worker stopped). A single-stage job ends like
// a normal run: the container's /data/out is copied into a fresh private folder before its
// removal (through the archive API, which reads through a bind mount as well), then the usage
// file is read and, after a success, the state saved. A job of several stages cannot resume
// (refuse_resumed_chain).
void JobRunner::take_over(RunEnvironment& env, logging::JobSummary& summary) {
  const bool single = !is_chain(spec_);
  std::optional<JobWorkspace> workspace;
  bool outputs_read = false;
  ExistingContainer existing{*options_.reattach_container_id, {}};
  if (single) {
    workspace.emplace(events_.job_id(), std::nullopt, false,
                      config_.generated.value_or(nlohmann::json::object()), ContainerUser{});
    existing.files.copy_out = [&](docker::EngineClient& client, const std::string& id) {
      const auto problem = copy_outputs_out(client, id, *workspace, events_);
      outputs_read = !problem;
      if (problem)
        events_.emit(Level::warning, "runner",
                     "The taken-over container's outputs could not be read (" + *problem +
                         "): its usage file is not known and its state is not saved");
      return std::optional<std::string>();  // the run's outcome is the container's
    };
  }
  const auto run_started = Clock::now();
  ContainerRun run(env, std::move(existing), spec_.logging);
  const RunReport report = run.run();
  judge(report, spec_, job_timeout_seconds(spec_),
        std::chrono::duration<double>(Clock::now() - run_started).count(), events_, summary);
  refuse_resumed_chain(spec_, summary);
  if (single && outputs_read) after_run(*workspace, *state_, summary);
}

void JobRunner::finish_summary(const logging::KestraResults& results,
                               logging::JobSummary& summary) {
  summary.outputs = results.outputs();
  summary.metrics = results.metrics();
  summary.assets = results.assets();
  summary.results_summary = results.summary();
  append_rows_summary(summary);
}

void JobRunner::judge_response(const RunReport& report, logging::JobSummary& summary) {
  ActionResponse response =
      judge_action_response(report.texts.stdout_text, report.texts.stdout_omitted);
  if (response.json) {
    response_ = std::move(response.json);
    return;
  }
  summary.status = JobStatus::error;
  summary.error_type = ErrorType::application;
  summary.exit_code = kExitApplicationError;
  summary.message = response.problem;
}

void JobRunner::announce(const JobWorkspace& workspace) {
  if (!config_.generated)
    events_.emit(Level::info, "runner",
                 "Using " + config_.users_file.string() +
                     " as the configuration (the component gives no parameters); runner leaves "
                     "the file as it is");
  if (options_.keep_data)
    events_.emit(Level::info, "runner",
                 "Working folder " + workspace.root().string() + " (data: " +
                     workspace.data_dir().string() + ") is kept after the run (--keep-data)");
}

NewContainer JobRunner::new_container(const ComponentSpec& spec, const Stage& stage,
                                      const ChainRun& run, bool tagged,
                                      const JobWorkspace& workspace,
                                      const docker::EngineEndpoint& engine) const {
  const FileHandling handling =
      resolve_file_handling(options_.file_handling, spec.file_handling, engine);
  NewContainer container{
      spec.id,
      container_config(spec, options_, workspace, events_.job_id(), configuration_id(spec_),
                       handling, engine.display),
      "runner-" + events_.job_id(),
      ImagePull{spec.image, spec.pull_policy, registry_auth(spec), options_.pull_attempts},
      {},
      GelfAddress{options_.gelf_bind, options_.gelf_advertise}};
  tag_stage_container(container, stage, run, tagged);
  if (handling == FileHandling::copy) container.files = workspace_copy_hooks(workspace, events_);
  return container;
}

}  // namespace runner

// The job's driver over its stages: every row to run (job_stages.hpp), each a chain of container
// runs over one working folder, judged stage by stage; the first stage that fails ends its row,
// and a failed row ends the job. Each chain reads its row's state before its first stage, and
// on every way out of it (a failure, an exception, the engine going away) gives a --data-dir's
// outputs back and reads the usage file; the state is saved after a successful chain only.
#include "runner/job_chain.hpp"

#include "runner/component_stages.hpp"
#include "runner/component_state.hpp"
#include "runner/container_user.hpp"
#include "runner/data_dir_access.hpp"
#include "runner/errors.hpp"
#include "runner/job_outcome.hpp"
#include "runner/job_runner.hpp"
#include "runner/job_workspace.hpp"
#include "runner/sync_action.hpp"

#include <algorithm>

namespace runner {
namespace {

using logging::Level;

nlohmann::json event_context(const ChainRun& run, const Stage* stage) {
  nlohmann::json context = nlohmann::json::object();
  if (stage != nullptr) context["stage"] = stage->name();
  if (run.row != nullptr) context["row"] = run.row->id;
  return context;
}

bool has_processors(const ComponentSpec& spec) {
  if (!spec.processors.before.empty() || !spec.processors.after.empty()) return true;
  for (const auto& row : spec.rows)
    if (!row.processors.before.empty() || !row.processors.after.empty()) return true;
  return false;
}

}  // namespace

bool is_chain(const ComponentSpec& spec) {
  return !spec.rows.empty() || has_processors(spec);
}

std::vector<const ComponentSpec*> all_specs(const ComponentSpec& spec) {
  std::vector<const ComponentSpec*> out = {&spec};
  auto add = [&out](const ProcessorChain& chain) {
    for (const auto* list : {&chain.before, &chain.after})
      for (const auto& processor : *list) out.push_back(&processor);
  };
  add(spec.processors);
  for (const auto& row : spec.rows) add(row.processors);
  return out;
}

void refuse_resumed_chain(const ComponentSpec& spec, logging::JobSummary& summary) {
  if (!is_chain(spec) || summary.status != JobStatus::success) return;
  summary.status = JobStatus::error;
  summary.error_type = ErrorType::application;
  summary.exit_code = kExitApplicationError;
  summary.message =
      "The job was taken over from a stopped worker while one of its stages ran: that "
      "container succeeded, but the stages and rows after it cannot run (their working folder "
      "was the first worker's); run the job again";
}

void append_rows_summary(logging::JobSummary& summary) {
  if (summary.rows.empty()) return;
  std::string line = "rows:";
  for (const auto& row : summary.rows)
    line += " " + row.value("id", "") + " " + row.value("status", "") + ",";
  line.pop_back();
  if (!summary.results_summary.empty()) summary.results_summary += "\n";
  summary.results_summary += line;
}

void tag_stage_container(NewContainer& container, const Stage& stage, const ChainRun& run,
                         bool tagged) {
  if (run.row != nullptr) {
    container.config.env.push_back("KBC_CONFIGROWID=" + run.row->id);
    container.config.labels[kLabelRow] = run.row->id;
  }
  if (!tagged) return;
  container.config.labels[kLabelStage] = stage.name();
  container.name += (run.row != nullptr ? "-" + run.row->id : "") + "-" + stage.name();
}

void JobRunner::run_plan(RunEnvironment& env, logging::JobSummary& summary) {
  const JobPlan plan = plan_job(spec_, options_.row);
  // Who the containers run as: asked of the engine once per distinct image and user of the job's
  // stages, every row's folder made for all of them (shared_user).
  const ContainerUser user = stages_user(env, plan);
  if (spec_.rows.empty() || is_sync_action(spec_)) {
    run_chain(env, plan, plan.runs.front(), user, summary);
    events_.set_context(nlohmann::json::object());
    return;
  }
  std::size_t next = 0;
  bool stopped = false;
  for (const ConfigRow& row : spec_.rows) {
    const bool planned = next < plan.runs.size() && plan.runs[next].row == &row;
    if (!planned) {
      if (!options_.row) summary.rows.push_back(row_result(row.id, "disabled", 0, ""));
      continue;
    }
    const ChainRun& run = plan.runs[next++];
    if (stopped) {
      summary.rows.push_back(row_result(row.id, "not_run", 0, ""));
      continue;
    }
    const auto started = std::chrono::steady_clock::now();
    stopped = !run_chain(env, plan, run, user, summary);
    const std::string status(logging::job_status_name(summary.status));
    summary.rows.push_back(row_result(row.id, status, summary.exit_code, summary.message));
    summary.rows.back()["duration"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    events_.set_context(event_context(run, nullptr));
    const nlohmann::json fields = {{"row_status", status}, {"exit_code", summary.exit_code}};
    events_.emit(stopped ? Level::error : Level::info, "runner",
                 "Row " + row.id + (stopped ? " failed: " + summary.message : " succeeded"),
                 &fields);
    if (stopped) summary.message = "Row " + row.id + ": " + summary.message;
  }
  events_.set_context(nlohmann::json::object());
}

ContainerUser JobRunner::stages_user(RunEnvironment& env, const JobPlan& plan) {
  std::vector<const ComponentSpec*> asked;
  std::vector<ContainerUser> users;
  for (const ChainRun& run : plan.runs)
    for (const Stage& stage : run.stages) {
      const ComponentSpec& spec = *stage.spec;
      if (std::any_of(asked.begin(), asked.end(), [&](const ComponentSpec* a) {
            return a->image == spec.image && a->user == spec.user;
          }))
        continue;
      asked.push_back(&spec);
      users.push_back(container_user(env.client, spec, events_));
    }
  ContainerUser user = shared_user(users);
  if (user.kind == UserKind::several)
    events_.emit(Level::debug, "runner",
                 "The job's stages run as different " + user.describe() +
                     ": their folders are opened to all below the private 0700 folder");
  return user;
}

StatePhase& JobRunner::chain_state(const ChainRun& run, std::optional<StatePhase>& row_state) {
  if (run.row == nullptr) return *state_;
  // A row has a state of its own: read before its first stage, its secrets masked from then on.
  row_state.emplace(state_->for_row(run.row->id));
  row_state->load();
  if (!row_state->secrets().empty()) {
    spec_.secrets.insert(spec_.secrets.end(), row_state->secrets().begin(),
                         row_state->secrets().end());
    masker_ = secrets::Masker(spec_.secrets);
    events_.set_masker(masker_);
  }
  return *row_state;
}

bool JobRunner::run_chain(RunEnvironment& env, const JobPlan& plan, const ChainRun& run,
                          const ContainerUser& user, logging::JobSummary& summary) {
  if (plan.tagged) events_.set_context(event_context(run, nullptr));
  if (run.row != nullptr) events_.emit(Level::info, "runner", "Running row " + run.row->id);
  std::optional<StatePhase> row_state;
  StatePhase& state = chain_state(run, row_state);
  // With --data-dir, a chain or a row runs in a private folder of its own, so that moving out/
  // to in/ never touches the user's in/: DIR/in is copied in first, and the final out/ is
  // copied to DIR/out after a successful run. A single run uses DIR itself. Either way the
  // user's own config.json is the configuration when the component gives no parameters.
  const bool staged = options_.data_dir && plan.tagged;
  const std::optional<nlohmann::json> config =
      plan.tagged ? std::optional<nlohmann::json>(chain_config(run.stages.front(), run))
                  : config_.generated;
  const JobWorkspace workspace(events_.job_id(), staged ? std::nullopt : options_.data_dir,
                               options_.keep_data, config, user);
  announce(workspace);
  // DIR/out is opened to the container's user for the run: from here on, whatever ends the run
  // (a stage's failure, the engine going away, an exception of runner's own), the outputs go back
  // to the folder's owner (the guard's destructor) and the usage file is read.
  std::optional<DataDirAccess> access;
  bool ok = false;
  try {
    if (options_.data_dir && !staged) {
      access.emplace(workspace.data_dir(), user);
      for (const auto& warning : access->warnings())
        events_.emit(Level::warning, "runner", warning);
    }
    if (staged) copy_folder(*options_.data_dir / "in", workspace.data_dir() / "in");
    state.write_input(workspace);
    ok = run_stages(env, plan, run, workspace, summary);
  } catch (...) {
    record_failure(std::current_exception(), summary);
  }
  if (access)
    for (const auto& problem : access->give_back()) events_.emit(Level::warning, "runner", problem);
  // The usage file (whatever the outcome), then, after a successful run, the new state.
  after_run(workspace, state, summary);
  ok = ok && summary.status == JobStatus::success;
  if (ok && staged) {
    copy_folder(workspace.data_dir() / "out", *options_.data_dir / "out");
    for (const auto& problem : give_outputs_back(*options_.data_dir))
      events_.emit(Level::warning, "runner", problem);
  }
  return ok;
}

bool JobRunner::run_stages(RunEnvironment& env, const JobPlan& plan, const ChainRun& run,
                           const JobWorkspace& workspace, logging::JobSummary& summary) {
  for (std::size_t i = 0; i < run.stages.size(); ++i) {
    const Stage& stage = run.stages[i];
    if (i > 0) {
      move_output_to_input(workspace.data_dir());
      write_stage_config(workspace.data_dir(), chain_config(stage, run));
    }
    if (!run_stage(env, plan, run, stage, workspace, summary)) return false;
  }
  return true;
}

nlohmann::json JobRunner::chain_config(const Stage& stage, const ChainRun& run) const {
  // The user's own DIR/config.json stands for the configuration (the main stage's; a row's
  // parameters merged over its parameters); processors keep their own.
  if (stage.kind != StageKind::main || config_.generated) return stage_config(stage, run);
  nlohmann::json config = config_.users_config;
  if (run.row != nullptr)
    config["parameters"] =
        merge_parameters(config.value("parameters", nlohmann::json::object()), run.row->parameters);
  return config;
}

void JobRunner::record_failure(std::exception_ptr error, logging::JobSummary& summary) {
  const JobOutcome failure = classify(std::move(error));
  summary.status = failure.status;
  summary.error_type = failure.error_type;
  summary.exit_code = failure.exit_code;
  summary.message = failure.message;
}

bool JobRunner::run_stage(RunEnvironment& env, const JobPlan& plan, const ChainRun& run,
                          const Stage& stage, const JobWorkspace& workspace,
                          logging::JobSummary& summary) {
  if (plan.tagged) events_.set_context(event_context(run, &stage));
  const ComponentSpec& spec = *stage.spec;
  const auto started = std::chrono::steady_clock::now();
  summary.container_exit_code.reset();
  try {
    ContainerRun container(
        env, new_container(spec, stage, run, plan.tagged, workspace, env.client.endpoint()),
        spec.logging);
    const RunReport report = container.run();
    judge(report, spec, static_cast<int>(env.deadline.timeout().count()),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
          events_, summary);
    if (is_sync_action(spec_) && summary.status == JobStatus::success)
      judge_response(report, summary);
  } catch (...) {
    record_failure(std::current_exception(), summary);
  }
  if (plan.tagged)
    summary.stages.push_back(stage_result(
        run.row != nullptr ? run.row->id : "", stage.name(), spec.id, summary,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
  if (summary.status == JobStatus::success) return true;
  if (stage.kind != StageKind::main)
    summary.message = "Processor " + stage.name() + " (" + spec.id + ") failed: " + summary.message;
  return false;
}

}  // namespace runner

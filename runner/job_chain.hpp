// The job's driver over its stages (job_stages.hpp): the helpers JobRunner's run_plan, run_chain
// and run_stage (job_chain.cpp) share with job_runner.cpp. Internal to runner_core.
#pragma once

#include "docker/engine_client.hpp"
#include "logging/event.hpp"
#include "logging/event_log.hpp"
#include "runner/component.hpp"
#include "runner/container_run.hpp"
#include "runner/container_user.hpp"
#include "runner/job_stages.hpp"

#include <vector>

namespace runner {

// Who the container runs as (job_runner.cpp): the component's `user`, else the image's USER; a
// name is looked up in the image's /etc/passwd (image_accounts.hpp), a debug event saying so when
// it cannot be.
ContainerUser container_user(docker::EngineClient& client, const ComponentSpec& spec,
                             logging::EventLog& events);
// The summary of a run that ended (job_runner.cpp): terminated by a stop request, or judged by
// its exit with Keboola's rules; `timeout_seconds` is the job's, `elapsed_seconds` the run's.
void judge(const RunReport& report, const ComponentSpec& spec, int timeout_seconds,
           double elapsed_seconds, logging::EventLog& events, logging::JobSummary& summary);
// Whether the job is more than one container run: processors (its own or its rows') or rows.
bool is_chain(const ComponentSpec& spec);
// The main component and every processor of the file (its own and its rows').
std::vector<const ComponentSpec*> all_specs(const ComponentSpec& spec);
// A worker took over one container of a job of several stages: the stages after it cannot run
// (their working folder was the first worker's), so a success of that one container is not the
// job's.
void refuse_resumed_chain(const ComponentSpec& spec, logging::JobSummary& summary);
// The stage's and row's name, label and KBC_CONFIGROWID on a stage's container.
void tag_stage_container(NewContainer& container, const Stage& stage, const ChainRun& run,
                         bool tagged);

// A job of rows: one line for people after the results summary ("rows: orders success, items
// disabled ...").
void append_rows_summary(logging::JobSummary& summary);

}  // namespace runner

// File handling by copy: the job's working folder goes into its container through the engine's
// archive API, and out/ comes back, for engines that cannot see this machine's files.
//
// Copy in (before the start): the whole data folder (config.json, in/, out/ and whatever else it
// holds, state included) as /data, each entry with the owner and mode JobWorkspace gave it, so
// the container sees what a bind mount would show it. Copy out (after the exit, before the
// removal): the container's /data/out into the data folder's out/ (files added or replaced,
// none removed), extracted under the rules of docker/folder_archive.hpp, and at most as many
// bytes as half the free space of the working folder's disk (the tar and its extraction both
// land there). The tars live in the private working folder and are removed at once.
#pragma once

#include "docker/engine_client.hpp"
#include "logging/event_log.hpp"
#include "runner/component.hpp"
#include "runner/container_run.hpp"
#include "runner/job_workspace.hpp"

#include <optional>
#include <string>

namespace runner {

// The handling a job uses: the operator's choice (--file-handling of `run` or `worker`) when it
// names one, else the component's, and `automatic` resolved by the engine's address.
FileHandling resolve_file_handling(std::optional<FileHandling> operator_choice,
                                   FileHandling component_choice,
                                   const docker::EngineEndpoint& endpoint);

// Copies the data folder into the created (not started) container as /data. Throws UserError
// when the engine refuses it, InternalError when the folder cannot be read.
void copy_workspace_in(docker::EngineClient& client, const std::string& container_id,
                       const JobWorkspace& workspace, logging::EventLog& events);

// Copies the exited container's /data/out back into the data folder's out/. Returns the problem
// when that failed (the job's outputs are then incomplete), nullopt when it worked.
std::optional<std::string> copy_outputs_out(docker::EngineClient& client,
                                            const std::string& container_id,
                                            const JobWorkspace& workspace,
                                            logging::EventLog& events);

// The two as the hooks of a NewContainer (container_run.hpp); `workspace` and `events` must
// outlive the container's run.
ContainerFiles workspace_copy_hooks(const JobWorkspace& workspace, logging::EventLog& events);

}  // namespace runner

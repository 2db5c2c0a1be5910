// The environment a component gets, Keboola's variables first (docker-bundle's Environment
// class, REFERENCE.md section 5), then the component's own `env`.
//
// Always: KBC_DATADIR, KBC_RUNID, KBC_PROJECTID, KBC_CONFIGID, KBC_CONFIGVERSION,
// KBC_COMPONENTID, KBC_STACKID, KBC_BRANCHID, KBC_STAGING_FILE_PROVIDER,
// KBC_PROJECT_FEATURE_GATES (comma-separated, may be empty), KBC_COMPONENT_RUN_MODE (run or
// debug). When they apply: KBC_CONFIGROWID (a configuration row's run), KBC_DATA_TYPE_SUPPORT
// (the component's `data_type_support`). GELF mode adds KBC_LOGGER_ADDR/PORT (container_run).
// Where runner differs from Keboola (no Storage API, so no token variables; "local" as the
// staging provider) is in docs/component.md.
#pragma once

#include "runner/component.hpp"

#include <optional>
#include <string>
#include <vector>

namespace runner {

// Where a job runs, as the environment tells the component.
struct KeboolaContext {
  std::string job_id;
  std::string project_id = "local";
  std::string branch_id = "default";
  std::string stack_id = "local";
  std::string run_mode = "run";  // run | debug
  std::string staging_file_provider = "local";
  std::vector<std::string> feature_gates;
  std::optional<std::string> row_id;  // the configuration row this container runs
  // KBC_CONFIGID (configuration_id of the job's main component); empty: the stage's own.
  std::string config_id;
};

// KBC_CONFIGID: `config_id` as given; without one (Keboola always has one), the SHA-1 (40 hex
// digits) of the configuration, as docker-bundle does: the JSON of `parameters`, `storage`,
// `image_parameters` and `authorization` with sorted keys and every '#' key's value left out
// (a hash of a secret would let anyone test guesses of it; a rotated secret is still the same
// configuration). Stable across runs of one file, changed by any other change of them.
std::string configuration_id(const ComponentSpec& spec);

// "NAME=value" entries for the container. `config_id` is the job's configuration_id (the main
// component's, for every stage).
std::vector<std::string> keboola_environment(const ComponentSpec& spec,
                                             const KeboolaContext& context);

// The variables this unit adds to docker-bundle's first set (KBC_CONFIGROWID,
// KBC_STAGING_FILE_PROVIDER, KBC_PROJECT_FEATURE_GATES, KBC_DATA_TYPE_SUPPORT): reserved like
// reserved_env_names(), so a component's `env` cannot set them.
bool is_keboola_env_name(const std::string& name);

// Whether `mode` is a run mode Keboola knows ("run" or "debug").
bool is_run_mode(const std::string& mode);

}  // namespace runner

// The component's environment: see the header.
#include "runner/keboola_env.hpp"

namespace runner {

bool is_keboola_env_name(const std::string& name) {
  return name == "KBC_CONFIGROWID" || name == "KBC_STAGING_FILE_PROVIDER" ||
         name == "KBC_PROJECT_FEATURE_GATES" || name == "KBC_DATA_TYPE_SUPPORT";
}

bool is_run_mode(const std::string& mode) {
  return mode == "run" || mode == "debug";
}

std::vector<std::string> keboola_environment(const ComponentSpec& spec,
                                             const KeboolaContext& context) {
  std::string gates;
  for (const auto& gate : context.feature_gates) gates += (gates.empty() ? "" : ",") + gate;
  std::vector<std::string> env = {
      "KBC_DATADIR=/data/",
      "KBC_RUNID=" + context.job_id,
      "KBC_PROJECTID=" + context.project_id,
      "KBC_CONFIGID=" + spec.config_id,
      "KBC_CONFIGVERSION=" + std::to_string(spec.config_version),
      "KBC_COMPONENTID=" + spec.id,
      "KBC_STACKID=" + context.stack_id,
      "KBC_BRANCHID=" + context.branch_id,
      "KBC_STAGING_FILE_PROVIDER=" + context.staging_file_provider,
      "KBC_PROJECT_FEATURE_GATES=" + gates,
      "KBC_COMPONENT_RUN_MODE=" + context.run_mode,
  };
  if (context.row_id) env.push_back("KBC_CONFIGROWID=" + *context.row_id);
  if (spec.data_type_support)
    env.push_back(std::string("KBC_DATA_TYPE_SUPPORT=") +
                  data_type_support_name(*spec.data_type_support));
  for (const auto& [name, value] : spec.env) env.push_back(name + "=" + value);
  return env;
}

}  // namespace runner

// The component's environment: see the header.
#include "runner/keboola_env.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>

namespace runner {
namespace {

// The document without the values of '#' keys (at any depth; bounded by the component's own
// depth limit, which read_json enforced when the file was read).
nlohmann::json without_secrets(const nlohmann::json& value) {
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(without_secrets(item));
    return out;
  }
  if (!value.is_object()) return value;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, item] : value.items())
    out[key] = !key.empty() && key.front() == '#' ? nlohmann::json() : without_secrets(item);
  return out;
}

std::string sha1_hex(const std::string& text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1)
    return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

}  // namespace

std::string configuration_id(const ComponentSpec& spec) {
  if (!spec.config_id.empty()) return spec.config_id;
  const nlohmann::json configuration = {
      {"parameters", without_secrets(spec.parameters)},
      {"storage", without_secrets(spec.storage)},
      {"image_parameters", without_secrets(spec.image_parameters)},
      {"authorization", without_secrets(spec.authorization)}};
  return sha1_hex(configuration.dump());
}

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
      "KBC_CONFIGID=" + (context.config_id.empty() ? configuration_id(spec) : context.config_id),
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

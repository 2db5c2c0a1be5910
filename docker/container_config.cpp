// ContainerConfig -> create body. Fields left at their zero value are omitted so the engine's own
// defaults apply.
#include "docker/container_config.hpp"

namespace runner::docker {

nlohmann::json ContainerConfig::to_create_body() const {
  nlohmann::json host = {
      {"NetworkMode", network_mode},
      {"LogConfig", {{"Type", log_driver}, {"Config", nlohmann::json::object()}}},
  };
  if (!binds.empty()) host["Binds"] = binds;
  if (memory_bytes > 0) host["Memory"] = memory_bytes;
  if (memory_swap_bytes != 0) host["MemorySwap"] = memory_swap_bytes;
  if (nano_cpus > 0) host["NanoCpus"] = nano_cpus;
  if (pids_limit > 0) host["PidsLimit"] = pids_limit;
  if (!cap_add.empty()) host["CapAdd"] = cap_add;
  if (!cap_drop.empty()) host["CapDrop"] = cap_drop;
  if (!security_opt.empty()) host["SecurityOpt"] = security_opt;

  nlohmann::json body = {
      {"Image", image},       {"Env", env},           {"Labels", labels},
      {"Tty", false},         {"OpenStdin", false},   {"AttachStdin", false},
      {"AttachStdout", true}, {"AttachStderr", true}, {"HostConfig", std::move(host)},
  };
  if (cmd) body["Cmd"] = *cmd;
  if (entrypoint) body["Entrypoint"] = *entrypoint;
  if (!user.empty()) body["User"] = user;
  if (!working_dir.empty()) body["WorkingDir"] = working_dir;
  return body;
}

}  // namespace runner::docker

// ContainerConfig and friends: the subset of the Engine API's container model the runner uses.
//
// The runner fills a ContainerConfig from a component; only this file knows how it maps onto the
// JSON body of POST /containers/create, so no Docker field names leak into runner/.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace runner::docker {

struct ContainerConfig {
  std::string image;
  std::optional<std::vector<std::string>> cmd;
  std::optional<std::vector<std::string>> entrypoint;
  std::vector<std::string> env;  // "KEY=VALUE"
  std::map<std::string, std::string> labels;
  std::string user;
  std::string working_dir;
  std::vector<std::string> binds;      // "/host:/container[:ro]"
  std::int64_t memory_bytes = 0;       // 0: no limit
  std::int64_t memory_swap_bytes = 0;  // -1 unlimited, = memory for no swap
  std::int64_t nano_cpus = 0;
  std::int64_t pids_limit = 0;
  std::string network_mode = "bridge";
  std::string log_driver = "none";
  std::vector<std::string> cap_add;       // HostConfig.CapAdd
  std::vector<std::string> cap_drop;      // HostConfig.CapDrop, e.g. {"NET_RAW"}
  std::vector<std::string> security_opt;  // HostConfig.SecurityOpt, e.g. {"no-new-privileges"}

  nlohmann::json to_create_body() const;
};

struct ContainerState {
  std::string status;  // created, running, exited, ...
  bool running = false;
  std::int64_t exit_code = 0;
  bool oom_killed = false;
  std::string error;
  std::string ip_address;  // on its network (bridge), empty when it has none
};

struct ContainerSummary {
  std::string id;
  std::string name;
  std::string state;
  std::map<std::string, std::string> labels;
};

struct RegistryAuth {
  std::string username;
  std::string password;
  std::string server_address;
};

}  // namespace runner::docker

// Orphan collection: `runner gc` removes containers that a runner started and can no longer
// remove itself (the runner was killed with SIGKILL, or the machine lost power mid-job).
//
// Every container carries io.runner.managed, io.runner.host and io.runner.pid labels. One is an
// orphan when it was started on this host by a process that no longer exists; with `all`, every
// runner container is removed (for a host whose runners are all stopped).
#pragma once

#include "docker/engine_client.hpp"

#include <string>
#include <vector>

namespace runner {

struct GcEntry {
  std::string id;
  std::string name;
  std::string job_id;
  std::string state;
  bool removed = false;
  std::string reason;  // why it is (or is not) an orphan
};

std::vector<GcEntry> collect_orphans(docker::EngineClient& client, bool all, bool dry_run);

}  // namespace runner

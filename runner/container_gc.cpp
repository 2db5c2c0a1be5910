// collect_orphans: see the header. Liveness is checked with kill(pid, 0) on this host only.
#include "runner/container_gc.hpp"

#include "runner/job_runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace runner {

std::vector<GcEntry> collect_orphans(docker::EngineClient& client, bool all, bool dry_run) {
  std::array<char, 256> host{};
  gethostname(host.data(), host.size() - 1);
  std::vector<GcEntry> entries;
  for (const auto& c : client.list_containers({std::string(kLabelManaged) + "=true"})) {
    GcEntry e;
    e.id = c.id;
    e.name = c.name;
    e.state = c.state;
    auto label = [&](const char* key) {
      auto it = c.labels.find(key);
      return it == c.labels.end() ? std::string() : it->second;
    };
    e.job_id = label(kLabelJobId);
    const std::string owner_host = label(kLabelHost);
    const std::string owner_pid = label(kLabelPid);
    bool orphan = all;
    if (all) {
      e.reason = "--all";
    } else if (owner_host != host.data()) {
      e.reason = "started on another host (" + owner_host + "); use --all there or here";
    } else {
      const long pid = owner_pid.empty() ? 0 : std::strtol(owner_pid.c_str(), nullptr, 10);
      const bool alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
      orphan = !alive;
      e.reason = alive ? "its runner (pid " + owner_pid + ") is still running"
                       : "its runner (pid " + owner_pid + ") is gone";
    }
    if (orphan && !dry_run) {
      client.remove_container(c.id);
      e.removed = true;
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace runner

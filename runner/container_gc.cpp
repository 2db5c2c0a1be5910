// collect_orphans: see the header. Liveness is checked with kill(pid, 0) on this host only.
#include "runner/container_gc.hpp"

#include "common/host_name.hpp"
#include "runner/job_runner.hpp"
#include "runner/job_workspace.hpp"
#include "secrets/config_cipher.hpp"
#include "store/event_spool.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>

namespace runner {

bool process_alive(std::int64_t pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

std::vector<GcEntry> collect_orphans(docker::EngineClient& client, bool all, bool dry_run) {
  const std::string host = host_name();  // as the containers' io.runner.host labels were written
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
    } else if (owner_host != host) {
      e.reason = "started on another host (" + owner_host + "); use --all there or here";
    } else {
      const long pid = owner_pid.empty() ? 0 : std::strtol(owner_pid.c_str(), nullptr, 10);
      const bool alive = process_alive(pid);
      orphan = !alive;
      e.reason = alive ? "its runner (pid " + owner_pid + ") is still running"
                       : "its runner (pid " + owner_pid + ") is gone";
    }
    e.orphan = orphan;
    if (orphan && !dry_run) {
      client.remove_container(c.id);
      e.removed = true;
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

std::vector<GcWorkspace> collect_orphan_workspaces(bool dry_run) {
  std::vector<GcWorkspace> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(workspace_parent(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("runner-", 0) != 0 || !entry.is_directory(ec)) continue;
    std::ifstream owner(entry.path() / kWorkspaceOwnerFile);
    long pid = 0;
    if (!(owner >> pid) || pid <= 0) continue;
    if (process_alive(pid)) continue;  // still in use
    GcWorkspace w{entry.path(), pid, false};
    if (!dry_run) w.removed = std::filesystem::remove_all(entry.path(), ec) > 0;
    found.push_back(std::move(w));
  }
  return found;
}

void store_spooled_events(store::Store& db, store::JobRecord& job,
                          const std::function<void(const std::string&)>& say) {
  const auto home = secrets::runner_home();
  // A job id is a UUID; one from a store edited by hand must not name a path elsewhere.
  if (!home || job.id.find_first_of("/\\") != std::string::npos || job.id.starts_with('.')) return;
  const std::filesystem::path file = *home / "spool" / (job.id + ".spool");
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(file, ec))) return;
  try {
    const std::uint64_t last = store::store_left_over_spool(db, file, job.id);
    if (last > job.events_stored) job.events_stored = last;
    say(last > 0 ? "stored the events job " + job.id + " had spooled on disk (up to #" +
                       std::to_string(last) + ")"
                 : "removed the empty spool file of job " + job.id);
  } catch (const std::exception& e) {
    say("the events job " + job.id + " spooled on disk were not stored (" + file.string() +
        " is kept for the next runner gc): " + e.what());
  }
}

}  // namespace runner

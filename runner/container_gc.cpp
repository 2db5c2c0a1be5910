// collect_orphans: see the header. Liveness is checked with kill(pid, 0) on this host only.
#include "runner/container_gc.hpp"

#include "common/host_name.hpp"
#include "runner/job_runner.hpp"
#include "runner/job_workspace.hpp"
#include "secrets/config_cipher.hpp"
#include "store/event_spool.hpp"
#include "store/store_sink.hpp"

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
  const std::filesystem::path file = store::spool_file(*home / "spool", job.id);
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(file, ec))) return;
  try {
    const std::uint64_t stored_before = job.events_stored;
    const auto salvage = store::store_left_over_spool(db, file, job.id);
    if (salvage.last > job.events_stored) job.events_stored = salvage.last;
    // What the killed runner held in memory (between what the store had and what it spooled)
    // is gone: the record names it rather than let "up to #N" suggest a whole log.
    store::MissingEvents missing;
    const std::string why = "held in the memory of the runner (pid " +
                            std::to_string(job.runner_pid.value_or(0)) +
                            ") when it died, waiting for the store";
    if (salvage.first > stored_before + 1) missing.add(stored_before + 1, salvage.first - 1, why);
    for (const auto& [first, last] : salvage.gaps) missing.add(first, last, why);
    if (!missing.empty()) {
      job.events_missing =
          job.events_missing.empty() ? missing.text() : job.events_missing + "," + missing.text();
      if (job.events_missing_reason.empty()) job.events_missing_reason = missing.reason;
    }
    say(salvage.last > 0
            ? "stored the events job " + job.id + " had spooled on disk (#" +
                  std::to_string(salvage.first) + " to #" + std::to_string(salvage.last) + ")"
            : "removed the empty spool file of job " + job.id);
    if (!missing.empty())
      say("events " + missing.text() + " of job " + job.id + " were lost: " + why);
  } catch (const std::exception& e) {
    say("the events job " + job.id + " spooled on disk were not stored (" + file.string() +
        " is kept for the next runner gc): " + e.what());
  }
}

void record_spooled_jobs(store::Store& db, const std::function<void(const std::string&)>& say) {
  const auto home = secrets::runner_home();
  if (!home) return;
  for (const auto& job :
       store::record_spooled_jobs(db, *home / "spool", host_name(), process_alive))
    say(job.outcome);
}

}  // namespace runner

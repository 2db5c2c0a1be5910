// Orphan collection: `runner gc` removes containers that a runner started and can no longer
// remove itself (the runner was killed with SIGKILL, or the machine lost power mid-job).
//
// Every container carries io.runner.managed, io.runner.host and io.runner.pid labels. One is an
// orphan when it was started on this host by a process that no longer exists; with `all`, every
// runner container is removed (for a host whose runners are all stopped).
#pragma once

#include "docker/engine_client.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace runner::store {
class Store;
struct JobRecord;
}  // namespace runner::store

namespace runner {

struct GcEntry {
  std::string id;
  std::string name;
  std::string job_id;
  std::string state;
  bool orphan = false;
  bool removed = false;
  std::string reason;  // why it is (or is not) an orphan
};

// Whether process `pid` exists on this host (kill(pid, 0); EPERM counts as alive).
bool process_alive(std::int64_t pid);

std::vector<GcEntry> collect_orphans(docker::EngineClient& client, bool all, bool dry_run);

// Working folders (which may hold a decrypted configuration) whose runner died before removing
// them: runner-* folders in workspace_parent() with an owner.pid naming a process that is gone.
// Folders kept with --keep-data have no owner file and are left alone.
struct GcWorkspace {
  std::filesystem::path path;
  long owner_pid = 0;
  bool removed = false;
};
std::vector<GcWorkspace> collect_orphan_workspaces(bool dry_run);

// For store::end_jobs_of_dead_runners: the events a dead runner had spooled for `job` (the store
// was busy or away when it was killed: RUNNER_HOME/spool/<job id>.spool) are stored now, and
// the record's events_stored raised; `say` is told what was stored, or why not (the file is kept
// then, for the next `runner gc`).
void store_spooled_events(store::Store& db, store::JobRecord& job,
                          const std::function<void(const std::string&)>& say);

// Before store::end_jobs_of_dead_runners: the jobs whose runner on this host died before the
// store had their row (it was locked or down when they began) get it now, from the record the
// runner left next to its spool (store::record_spooled_jobs), so that their events are stored
// and the jobs ended like any other; `say` is told each one.
void record_spooled_jobs(store::Store& db, const std::function<void(const std::string&)>& say);

}  // namespace runner

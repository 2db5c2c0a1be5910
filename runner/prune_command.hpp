// `runner prune`: deletes finished jobs older than a duration, and their events, from the store,
// and gives the space back (docs/store.md, "Retention"). RUNNER_RETENTION, the automatic form,
// is in retention_setting.hpp (the library's worker uses it too).
#pragma once

#include "runner/retention_setting.hpp"

#include <string>

namespace CLI {
class App;
}

namespace runner {

struct PruneArgs {
  std::string store;
  std::string older_than;  // a duration: 30d, 12h, 90m, 45s, 2w or ISO-8601 (P30D)
  std::string namespace_name;
  std::string status;
  bool dry_run = false;
  bool keep_jobs = false;
  bool json = false;
};

// Registers `runner prune` (one line in main to create, one to dispatch).
class PruneCommand {
 public:
  explicit PruneCommand(CLI::App& app);
  PruneCommand(const PruneCommand&) = delete;
  PruneCommand& operator=(const PruneCommand&) = delete;
  bool parsed() const;
  int run() const;

 private:
  CLI::App* cmd_;
  PruneArgs args_;
};

}  // namespace runner

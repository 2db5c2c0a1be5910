// `runner jobs`, `runner logs JOB`, `runner show JOB`: what a person asks the store after a run.
//
// They only read the store (any backend). `logs --follow` polls the job's blocks every 250 ms
// and stops once the job has finished and everything it stored was printed: a poll is cheap
// (one indexed query) and works the same on SQLite and PostgreSQL.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace runner {

struct StoreCommandArgs {
  std::string store;  // empty: the default store
  // jobs
  std::string namespace_name;
  std::string status;
  std::size_t limit = 50;
  // logs / show
  std::string job;
  std::string level = "debug";
  bool follow = false;
  bool json = false;
  bool no_color = false;
};

struct StoreCommands {
  CLI::App* jobs = nullptr;
  CLI::App* logs = nullptr;
  CLI::App* show = nullptr;
};

StoreCommands add_store_commands(CLI::App& app, StoreCommandArgs& jobs, StoreCommandArgs& logs,
                                 StoreCommandArgs& show);

int command_jobs(const StoreCommandArgs& args);
int command_logs(const StoreCommandArgs& args);
int command_show(const StoreCommandArgs& args);

}  // namespace runner

// `runner action NAME component.json`: runs one of the component's sync actions (sync_action.hpp)
// and prints its answer, the JSON document the component printed, on stdout and nothing else;
// events go to stderr (and --events FILE, and the store), so a UI or an API reads stdout as the
// response. Exit codes as for `runner run`. `runner run` on a component whose `action` is not
// "run" runs it the same way (run_sync_action).
#pragma once

#include "runner/component.hpp"
#include "runner/engine_options.hpp"

#include <string>

namespace CLI {
class App;
}

namespace runner {

struct ActionArgs {
  std::string name;
  std::string component;
  std::string data_dir;
  std::string events;
  std::string store;  // empty: the default store
  std::string docker_host;
  std::string key_file;
  std::string project_id = "local";
  std::string branch_id = "default";
  bool no_color = false;
  bool quiet = false;
  bool verbose = false;
  EngineArgs engine;
};

CLI::App* add_action_command(CLI::App& app, ActionArgs& args);
int command_action(const ActionArgs& args);
// Runs `spec` (its action already set) as a sync action with these options.
int run_sync_action(ComponentSpec spec, const ActionArgs& args);

}  // namespace runner

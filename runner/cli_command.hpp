// CliCommand: one registered `runner` subcommand, the CLI11 app that parses it and what runs it.
//
// main.cpp keeps a list of these and runs the one that was parsed, so adding a command is one
// line there: `commands.push_back(runner::add_state_command(app));`, where the add_ function
// (in the command's own file) registers the subcommand and its options and returns the app with
// a function that runs it, holding its parsed arguments (a shared_ptr the options write into).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace runner {

struct CliCommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

}  // namespace runner

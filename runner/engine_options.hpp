// The command-line options of `runner run` and `runner worker` that say how jobs use their
// engine beyond its address: --file-handling, --gelf-bind, --gelf-advertise (docs/engines.md).
// One place for both commands, so they mean the same thing in each.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace runner {

struct RunOptions;

struct EngineArgs {
  std::string file_handling;  // empty: the component's (else auto)
  std::string gelf_bind;
  std::string gelf_advertise;
};

void add_engine_options(CLI::App& command, EngineArgs& args);
// Copies the options into `run`. Throws UsageError (exit 64) for an address that is not one of
// this machine's (--gelf-bind) or a malformed one.
void apply_engine_options(const EngineArgs& args, RunOptions& run);

}  // namespace runner

// check_command_line(): names an unknown command or option before CLI11 parses, with the nearest
// known name, as git and cargo do (`runner runn` -> "did you mean run?").
//
// CLI11 reports a mistyped command as "A subcommand is required" and a mistyped option as "The
// following arguments were not expected: x --dat-dir", after checking positionals and required
// options, so the person sees the wrong problem first. This walks the arguments against the
// registered commands and options (whatever commands are registered: it reads them from the
// app), knowing which options take a value, and stops at "--". Anything it cannot judge is left
// to CLI11.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace runner {

// The message for the first unknown command or option in `args` (argv without the program
// name), starting with the command it concerns ("runner run: ..."), or nullopt when every
// command and option is known.
std::optional<std::string> check_command_line(const CLI::App& app,
                                              const std::vector<std::string>& args);

}  // namespace runner

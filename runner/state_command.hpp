// `runner state show|set FILE|clear COMPONENT_JSON`: a configuration's Keboola state in the
// store (component_state.hpp), looked at and changed by hand. The component file names the
// state (its `id` and `config_id`; --row for a configuration row). `show` prints the current
// state as stored ('#' values as their ciphertexts: nothing secret is printed) and, with
// --history, its writes; `set` validates FILE as JSON, encrypts its '#' values with runner's key
// (warning without one) and makes it the state; `clear` removes it. Both are in the history.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace runner {

struct StateCommandArgs {
  std::string component;
  std::string file;  // set
  std::string row;
  std::string store;
  std::string key_file;
  std::size_t history = 0;  // show: this many writes, newest first
};

class StateCommand {
 public:
  explicit StateCommand(CLI::App& app);
  bool parsed() const;
  int run() const;

 private:
  StateCommandArgs show_args_, set_args_, clear_args_;
  CLI::App* show_ = nullptr;
  CLI::App* set_ = nullptr;
  CLI::App* clear_ = nullptr;
};

}  // namespace runner

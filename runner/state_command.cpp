// `runner state`: see the header.
#include "runner/state_command.hpp"

#include "logging/event.hpp"
#include "runner/component.hpp"
#include "runner/component_state.hpp"
#include "runner/errors.hpp"
#include "secrets/config_cipher.hpp"
#include "store/store.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>

namespace runner {
namespace {

// The state's key from a component file: its id and config_id, read without validating the rest
// (nothing there needs decrypting to name a state).
store::StateKey key_of(const StateCommandArgs& args) {
  const nlohmann::json doc = read_json_file(args.component);
  if (!doc.is_object() || !doc.contains("id") || !doc["id"].is_string())
    throw ConfigError({"$.id: required: the component id names the state"});
  store::StateKey key{doc["id"].get<std::string>(), "", args.row};
  if (doc.contains("config_id") && doc["config_id"].is_string())
    key.config_id = doc["config_id"].get<std::string>();
  return key;
}

std::unique_ptr<store::Store> open_state_store(const std::string& option) {
  const std::string url = option.empty() ? store::default_store_url() : option;
  if (url == "none") throw UsageError("--store none: the state lives in a store");
  try {
    return store::open_store(url);
  } catch (const std::exception& e) {
    throw StoreUnavailableError(e.what());
  }
}

std::string describe(const store::StateKey& key) {
  return fmt::format("{}, config \"{}\"{}", key.component_id, key.config_id,
                     key.row_id.empty() ? "" : ", row \"" + key.row_id + "\"");
}

int show(const StateCommandArgs& args) {
  const auto key = key_of(args);
  auto db = open_state_store(args.store);
  const auto current = db->read_state(key);
  if (!current) {
    std::printf("no state for %s (a run starts from {})\n", describe(key).c_str());
  } else {
    std::printf("%s\n", current->state.c_str());
    std::fprintf(stderr, "state of %s, written by job %s at %s\n", describe(key).c_str(),
                 current->job_id.c_str(), logging::format_time(current->time).c_str());
  }
  if (args.history > 0)
    for (const auto& w : db->state_history(key, args.history))
      std::fprintf(stderr, "%s  %-8s %s%s\n", logging::format_time(w.time).c_str(),
                   w.removed ? "removed" : "saved", w.job_id.c_str(),
                   w.removed ? "" : fmt::format(" ({} bytes)", w.state.size()).c_str());
  return 0;
}

int set(const StateCommandArgs& args, bool clear) {
  const auto key = key_of(args);
  store::StateWrite write;
  write.key = key;
  write.time = logging::now_utc();
  write.job_id = clear ? "runner state clear" : "runner state set";
  write.removed = clear;
  if (!clear) {
    nlohmann::json doc;
    try {
      doc = read_json_file(args.file);
    } catch (const ConfigError& e) {
      throw ConfigError({args.file + ": " + e.problems().front()});
    }
    std::optional<secrets::EncryptionKey> key_value;
    try {
      key_value = secrets::find_key(args.key_file.empty()
                                        ? std::nullopt
                                        : std::optional<std::filesystem::path>(args.key_file));
    } catch (const std::exception& e) {
      throw UsageError(std::string("--key-file: ") + e.what());
    }
    if (key_value)
      encrypt_secret_values(doc, *key_value);
    else if (const auto n = count_clear_secret_values(doc); n > 0)
      std::fprintf(stderr,
                   "runner: warning: no encryption key: %zu '#' value(s) are stored in the "
                   "clear (create a key with `runner keygen`)\n",
                   n);
    write.state = doc.dump();
    if (write.state.size() > kMaxStateBytes)
      throw UsageError(
          fmt::format("{}: the state may be at most {} bytes", args.file, kMaxStateBytes));
  }
  open_state_store(args.store)->write_state(write);
  std::printf("%s the state of %s\n", clear ? "Cleared" : "Set", describe(key).c_str());
  return 0;
}

void common_options(CLI::App* cmd, StateCommandArgs& args) {
  cmd->add_option("component", args.component, "component.json (its id and config_id)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--row", args.row, "A configuration row's id");
  cmd->add_option("--store", args.store,
                  "sqlite:PATH or postgresql://... (default $RUNNER_STORE, else "
                  "sqlite:$RUNNER_HOME/runner.db)");
}

}  // namespace

StateCommand::StateCommand(CLI::App& app) {
  CLI::App* state = app.add_subcommand("state", "Show or change a configuration's Keboola state");
  state->require_subcommand(1);
  show_ = state->add_subcommand("show", "Print the stored state (and --history N writes)");
  common_options(show_, show_args_);
  show_->add_option("--history", show_args_.history, "Also list the last N writes");
  set_ = state->add_subcommand("set", "Make a JSON file the state ('#' values encrypted)");
  common_options(set_, set_args_);
  set_->add_option("file", set_args_.file, "The new state, a JSON file")
      ->required()
      ->check(CLI::ExistingFile);
  set_->add_option("--key-file", set_args_.key_file,
                   "Key for '#' values (else RUNNER_ENCRYPTION_KEY, else $RUNNER_HOME/secret.key)");
  clear_ = state->add_subcommand("clear", "Remove the state (the next run starts from {})");
  common_options(clear_, clear_args_);
}

bool StateCommand::parsed() const {
  return show_->parsed() || set_->parsed() || clear_->parsed();
}

int StateCommand::run() const {
  if (show_->parsed()) return show(show_args_);
  if (set_->parsed()) return set(set_args_, false);
  return set(clear_args_, true);
}

}  // namespace runner

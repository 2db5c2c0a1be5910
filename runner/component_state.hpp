// Keboola's state file for one container run of a configuration (issue 13; REFERENCE.md 5).
//
// Before the run /data/in/state.json holds the state the last successful run of the same
// configuration (component id, config_id, configuration row) left, `{}` the first time; after a
// successful run /data/out/state.json becomes the new state. A missing or empty out file removes
// the state; a failed or terminated run, a debug run (--run-mode debug) and a sync action change
// nothing; invalid JSON fails the job as a user error naming the file; a state over 1 MB is
// warned about, one over kMaxStateBytes refused (a user error). With --data-dir the user's own
// DIR/in/state.json is used as they left it (unless --use-stored-state) and DIR/out/state.json
// stays where the component wrote it.
//
// Kept in the store (component_state and its history: which job wrote what, when; of two jobs
// of one configuration at once the later writer wins, and the history shows both). Every
// string under a '#' key is encrypted at rest with runner's key (the one `runner encrypt` uses),
// decrypted for the next run and registered with the scrubber before the container starts.
// Without a key, '#' values are stored in the clear, and every save says so in a warning.
//
// A configuration's rows each have their own state: a row loop makes one StatePhase per row,
// with the row's id in StateKey.row_id (and RunOptions.row_id for KBC_CONFIGROWID).
#pragma once

#include "logging/event_log.hpp"
#include "runner/component.hpp"
#include "runner/job_workspace.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace runner {

inline constexpr std::size_t kStateWarnBytes = 1024 * 1024;      // Keboola's advice
inline constexpr std::size_t kMaxStateBytes = 16 * 1024 * 1024;  // refused above

// What a run did to the state, for the result record and `runner show`.
enum class StateChange { none, saved, removed };
const char* state_change_name(StateChange change);

struct StateOptions {
  store::Store* store = nullptr;  // nullopt: no store, the state starts as {} every run
  KeyLookup find_key;             // runner's key, asked only when needed
  bool enabled = true;  // false (sync actions): no state read or written, in/state.json is {}
  bool save = true;     // false (debug runs): the state is read but never saved
  std::optional<std::filesystem::path> data_dir;  // --data-dir
  bool use_stored_state = false;                  // --use-stored-state
};

// Encrypts, in place, every string under a '#' key (at any depth) that is not a ciphertext yet.
// Returns how many were encrypted. Iterative.
std::size_t encrypt_secret_values(nlohmann::json& doc, const secrets::EncryptionKey& key);
// How many strings sit under '#' keys (at any depth) and are not ciphertexts.
std::size_t count_clear_secret_values(const nlohmann::json& doc);

class StatePhase {
 public:
  StatePhase(StateOptions options, store::StateKey key, logging::EventLog& events);

  // Before the masker exists: finds the input state (the user's file or the stored one, which is
  // decrypted). Throws UserError when the stored state cannot be decrypted or the user's file is
  // not JSON. The state's secrets are then in secrets().
  void load();
  // The same phase for one configuration row of the job (its own state, keyed by the row's id).
  StatePhase for_row(const std::string& row_id) const {
    store::StateKey key = key_;
    key.row_id = row_id;
    return {options_, std::move(key), events_};
  }
  const std::vector<std::string>& secrets() const { return secrets_; }
  // Once the working folder exists: writes in/state.json unless the user's own file is used (in
  // a --data-dir, a file runner writes there is removed after the run).
  void write_input(const JobWorkspace& workspace) const;
  // After a successful run: reads out/state.json and saves (or removes) the state. Throws
  // UserError when the file is invalid or too big; the new state's secrets are added to
  // `new_secrets`.
  StateChange save(const JobWorkspace& workspace, std::vector<std::string>& new_secrets);

 private:
  std::optional<secrets::EncryptionKey> key();

  StateOptions options_;
  store::StateKey key_;
  logging::EventLog& events_;
  std::string input_;  // in/state.json's text
  bool users_file_ = false;
  std::vector<std::string> secrets_;
  std::optional<std::optional<secrets::EncryptionKey>> encryption_key_;  // looked up once
};

}  // namespace runner

// Keboola's state file: see the header.
#include "runner/component_state.hpp"

#include "logging/json_reader.hpp"
#include "runner/errors.hpp"
#include "secrets/config_cipher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace runner {
namespace fs = std::filesystem;
namespace {

// A store call retried while the store is briefly away (a lost PostgreSQL connection is made
// again on the next call, a busy SQLite answers later): up to about 30 s, as the state is read
// once before and written once after the run. Other errors are not retried.
template <typename Call>
auto with_store_retries(Call&& call) {
  auto backoff = std::chrono::milliseconds(100);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      return call();
    } catch (const store::StoreError& e) {
      if (!e.transient() || std::chrono::steady_clock::now() + backoff > until) throw;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

// Every string value under a '#' key, at any depth: the walk is a loop over a stack.
template <typename Visit>
void for_each_secret_string(nlohmann::json& doc, Visit visit) {
  std::vector<std::pair<nlohmann::json*, bool>> pending = {{&doc, false}};
  while (!pending.empty()) {
    auto [value, secret] = pending.back();
    pending.pop_back();
    if (value->is_string() && secret) {
      visit(*value);
    } else if (value->is_object()) {
      for (auto& [key, child] : value->items())
        pending.emplace_back(&child, secret || (!key.empty() && key[0] == '#'));
    } else if (value->is_array()) {
      for (auto& child : *value) pending.emplace_back(&child, secret);
    }
  }
}

nlohmann::json parse_state(const std::string& text, const std::string& file) {
  logging::JsonLimits limits;
  limits.max_bytes = kMaxStateBytes;
  limits.max_depth = kMaxComponentDepth;
  try {
    return logging::read_json(text, limits);
  } catch (const logging::JsonInputError& e) {
    throw UserError(file + " is not valid JSON: " + e.what());
  }
}

// The file's text, or nullopt when it is not there; UserError when it is over the cap.
std::optional<std::string> read_state_file(const fs::path& path, const std::string& name) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;
  if (!fs::is_regular_file(path, ec)) throw UserError(name + " is not a regular file");
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxStateBytes)
    throw UserError(
        fmt::format("{} is {} bytes: the state may be at most {} bytes (keep it "
                    "small: Keboola suggests under 1 MB)",
                    name, size, kMaxStateBytes));
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

const char* state_change_name(StateChange change) {
  switch (change) {
    case StateChange::saved:
      return "saved";
    case StateChange::removed:
      return "removed";
    case StateChange::none:
      break;
  }
  return "unchanged";
}

std::size_t encrypt_secret_values(nlohmann::json& doc, const secrets::EncryptionKey& key) {
  std::size_t count = 0;
  for_each_secret_string(doc, [&](nlohmann::json& value) {
    const auto& text = value.get_ref<const std::string&>();
    if (secrets::is_ciphertext(text)) return;
    value = secrets::encrypt_value(key, text);
    ++count;
  });
  return count;
}

std::size_t count_clear_secret_values(const nlohmann::json& doc) {
  std::size_t count = 0;
  nlohmann::json copy = doc;
  for_each_secret_string(copy, [&](nlohmann::json& value) {
    if (!secrets::is_ciphertext(value.get_ref<const std::string&>())) ++count;
  });
  return count;
}

StatePhase::StatePhase(StateOptions options, store::StateKey key, logging::EventLog& events)
    : options_(std::move(options)), key_(std::move(key)), events_(events) {}

std::optional<secrets::EncryptionKey> StatePhase::key() {
  if (!encryption_key_) {
    try {
      encryption_key_ = options_.find_key ? options_.find_key() : std::nullopt;
    } catch (const std::exception& e) {
      throw UserError(std::string("the state needs runner's encryption key: ") + e.what());
    }
  }
  return *encryption_key_;
}

void StatePhase::load() {
  input_ = "{}";
  if (!options_.enabled) return;
  if (options_.data_dir && !options_.use_stored_state) {
    const fs::path file = fs::absolute(*options_.data_dir) / "in" / "state.json";
    if (auto text = read_state_file(file, file.string())) {
      nlohmann::json doc =
          blank(*text) ? nlohmann::json::object() : parse_state(*text, file.string());
      secrets_ = secrets::decrypt_and_collect(doc, std::nullopt).secrets;
      users_file_ = true;
      events_.emit(logging::Level::info, "runner",
                   "Using " + file.string() +
                       " as the input state, as you left it (the stored "
                       "state is not used: --use-stored-state uses it)");
      return;
    }
  }
  if (options_.store == nullptr) return;
  const auto stored = with_store_retries([&] { return options_.store->read_state(key_); });
  if (!stored) return;
  nlohmann::json doc = parse_state(stored->state, "the stored state");
  const auto decrypted = secrets::decrypt_and_collect(doc, key());
  if (!decrypted.ok())
    throw UserError("the stored state of " + key_.component_id +
                    " has encrypted values that "
                    "cannot be decrypted (" +
                    decrypted.errors.front() +
                    "): give runner the "
                    "key it was saved with, or clear it with `runner state clear`");
  secrets_ = decrypted.secrets;
  input_ = doc.dump();
  events_.emit(
      logging::Level::info, "runner",
      "Input state from job " + stored->job_id + " (" + std::to_string(input_.size()) + " bytes)");
}

void StatePhase::write_input(const JobWorkspace& workspace) const {
  if (!users_file_) workspace.write_data_file("in/state.json", input_ + "\n");
}

StateChange StatePhase::save(const JobWorkspace& workspace, std::vector<std::string>& new_secrets) {
  if (!options_.enabled || !options_.save) return StateChange::none;
  const fs::path file = workspace.data_dir() / "out" / "state.json";
  const auto text = read_state_file(file, "/data/out/state.json");
  store::StateWrite write;
  write.key = key_;
  write.time = logging::now_utc();
  write.job_id = events_.job_id();
  if (!text || blank(*text)) {
    write.removed = true;
  } else {
    nlohmann::json doc = parse_state(*text, "/data/out/state.json");
    if (text->size() > kStateWarnBytes)
      events_.emit(logging::Level::warning, "runner",
                   fmt::format("The new state is {} bytes: Keboola suggests keeping it under 1 MB "
                               "(runner refuses more than {})",
                               text->size(), kMaxStateBytes));
    nlohmann::json copy = doc;
    const auto found = secrets::decrypt_and_collect(copy, std::nullopt).secrets;
    new_secrets.insert(new_secrets.end(), found.begin(), found.end());
    if (const auto k = key()) {
      encrypt_secret_values(doc, *k);
    } else if (const std::size_t clear = count_clear_secret_values(doc); clear > 0) {
      events_.emit(logging::Level::warning, "runner",
                   fmt::format("No encryption key: {} '#' value(s) of the new state are stored "
                               "in the clear; create a key with `runner keygen` to have them "
                               "encrypted",
                               clear));
    }
    write.state = doc.dump();
  }
  if (options_.store == nullptr) {
    if (!write.removed)
      events_.emit(logging::Level::warning, "runner",
                   "No store (--store none): the new state is not kept for the next run");
    return StateChange::none;
  }
  const auto before = with_store_retries([&] { return options_.store->read_state(key_); });
  if (write.removed && !before) return StateChange::none;  // nothing to remove
  with_store_retries([&] { options_.store->write_state(write); });
  events_.emit(logging::Level::info, "runner",
               write.removed ? std::string("The state was removed (out/state.json is missing or "
                                           "empty)")
                             : "Saved the new state (" + std::to_string(text->size()) + " bytes)");
  return write.removed ? StateChange::removed : StateChange::saved;
}

}  // namespace runner

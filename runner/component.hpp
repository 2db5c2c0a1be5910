// ComponentSpec: a parsed, validated component.json (format: docs/component.md).
//
// Parsing collects every problem before failing, so the user fixes a file in one pass: each
// problem is one line naming the JSON path and what was expected. Defaults follow Keboola:
// 256m memory without swap, 3600 s timeout, bridge network, standard logging.
#pragma once

#include "secrets/config_cipher.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runner {

enum class PullPolicy { if_not_present, always, never };

// How the job's /data reaches the container (docs/engines.md): bind mounts of runner's own
// folder (an engine on this machine), or copies through the engine's archive API, in before the
// start and out/ back after the exit (an engine that cannot see this machine's files). `automatic`
// mounts for a unix:// engine and copies for a tcp:// one.
enum class FileHandling { automatic, mount, copy };
std::optional<FileHandling> parse_file_handling(std::string_view text);
const char* file_handling_name(FileHandling handling);

// Keboola's data types: what the component does with column types (KBC_DATA_TYPE_SUPPORT).
enum class DataTypeSupport { authoritative, hints, none };
const char* data_type_support_name(DataTypeSupport support);

struct ComponentLimits {
  std::int64_t memory_bytes = 256LL * 1024 * 1024;
  std::string memory_text = "256m";                      // as the user wrote it, for messages
  std::int64_t memory_swap_bytes = 256LL * 1024 * 1024;  // = memory: no swap; -1 unlimited
  std::optional<double> cpus;
  std::optional<std::int64_t> pids;
  int timeout_seconds = 3600;
};

// What people see of a GELF message of a given level (Keboola's visibility rules).
enum class Visibility { none, camouflage, normal, verbose };
std::string_view visibility_name(Visibility v);

struct LoggingSettings {
  std::string type = "standard";         // standard | gelf
  std::string gelf_server_type = "tcp";  // tcp | udp | http
  // Indexed by logging::Level (debug ... emergency). Keboola's defaults: debug none; info,
  // notice, warning, error normal; critical, alert, emergency camouflage.
  std::array<Visibility, 8> verbosity = {
      Visibility::none,   Visibility::normal,     Visibility::normal,     Visibility::normal,
      Visibility::normal, Visibility::camouflage, Visibility::camouflage, Visibility::camouflage};
  bool no_application_errors = false;
  bool kestra_protocol = true;  // false: Kestra protocol lines are ordinary output
};

// Isolation between jobs: every container runs without NET_RAW (no raw sockets, so no forged
// source addresses on the bridge) and with no-new-privileges (setuid binaries gain nothing).
// `cap_add` gives capabilities back, `no_new_privileges: false` lifts the second: both weaken
// the isolation and are documented as doing so.
struct SecuritySettings {
  std::vector<std::string> cap_add;  // engine names: "NET_RAW", "SYS_PTRACE", ...
  bool no_new_privileges = true;
};

struct RegistryCredentials {
  std::string username;
  std::string password;
  std::string server;
};

struct ComponentSpec;

// Processors (component_stages.hpp): components run over the same /data before and after the
// main one, in order.
struct ProcessorChain {
  std::vector<ComponentSpec> before;
  std::vector<ComponentSpec> after;
};

// A configuration row (component_stages.hpp): one run of the component (with its chain) with
// the row's parameters merged over the configuration's.
struct ConfigRow {
  std::string id;
  nlohmann::json parameters = nlohmann::json::object();
  bool disabled = false;
  // The row's own processors: a list given here replaces the configuration's.
  ProcessorChain processors;
  bool has_before = false;
  bool has_after = false;
};

struct ComponentSpec {
  std::string id;
  std::string namespace_name = "default";  // Kestra-style: "company.team"; jobs are listed by it
  std::string image;
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::string>> entrypoint;
  std::map<std::string, std::string> env;  // variable name (leading '#' removed) -> value
  std::vector<std::string> secret_env;     // names of variables given under a '#' key
  nlohmann::json parameters = nlohmann::json::object();
  bool parameters_given = false;  // the file has `parameters` (even {}): see data_dir_access.hpp
  nlohmann::json storage = nlohmann::json::object();  // Keboola's input/output mapping, as given
  nlohmann::json image_parameters = nlohmann::json::object();
  nlohmann::json authorization = nlohmann::json::object();
  std::string action = "run";
  std::string config_id;
  // KBC_CONFIGVERSION: the configuration's version (Keboola raises it on every change); 1 when
  // the component does not say.
  std::int64_t config_version = 1;
  std::optional<DataTypeSupport> data_type_support;
  ComponentLimits limits;
  std::string network = "bridge";
  std::string user;
  std::map<std::string, std::string> labels;
  PullPolicy pull_policy = PullPolicy::if_not_present;
  FileHandling file_handling = FileHandling::automatic;
  std::optional<RegistryCredentials> auth;
  LoggingSettings logging;
  SecuritySettings security;
  // Every secret of the configuration: values under '#' keys anywhere, and every decrypted value.
  std::vector<std::string> secrets;
  ProcessorChain processors;
  std::vector<ConfigRow> rows;
};

// How deep arrays and objects may nest in a component (logging::read_json refuses deeper files,
// prepare_component deeper documents), so the walks over one are bounded.
inline constexpr std::size_t kMaxComponentDepth = 256;
// The largest component file or queued spec read (16 MiB).
inline constexpr std::size_t kMaxComponentBytes = 16 * 1024 * 1024;

// Validates a parsed document. Throws ConfigError with every problem found.
ComponentSpec parse_component(const nlohmann::json& doc);
// Decrypts every ciphertext in `doc` (asking `find_key` for the key only when there is one),
// collects the secrets, then validates. Throws ConfigError with every problem, each naming its
// JSON path; no line ever shows a secret or a ciphertext.
using KeyLookup = std::function<std::optional<secrets::EncryptionKey>()>;
ComponentSpec prepare_component(nlohmann::json doc, const KeyLookup& find_key);
// Reads, decrypts and validates a file (see prepare_component). Throws ConfigError.
ComponentSpec load_component_file(const std::filesystem::path& path, const KeyLookup& find_key);
// Reads a JSON file into a document (ConfigError on syntax errors, duplicate keys, numbers out
// of range, nesting deeper than kMaxComponentDepth, files over kMaxComponentBytes), without
// validating it.
nlohmann::json read_json_file(const std::filesystem::path& path);
// The same for a component held as text (a spec read back from the queue).
nlohmann::json read_component_json(std::string_view text);

// Docker-style sizes: "256m", "1g", "512k", "1.5g", "1048576", "256MB", "1GiB". nullopt if invalid.
std::optional<std::int64_t> parse_size(std::string_view text);

// Environment variable names runner sets itself; a component may not override them.
const std::vector<std::string>& reserved_env_names();
// Label prefix reserved for runner's own labels.
inline constexpr const char* kLabelPrefix = "io.runner.";

}  // namespace runner

// component.json validation. A small ProblemList collects "$.path: expected ..., got ..." lines;
// each field is read by a helper that knows its expected type, so messages stay uniform.
//
// Bounded by construction: the file is read by logging::read_json (size, nesting depth, unique
// keys, finite numbers: see json_reader.hpp), prepare_component refuses a document built in
// memory that nests deeper than that same limit before walking it, every string check is a
// linear loop over a length-limited value (component_syntax.hpp), and every path or value
// quoted in a message is shortened. The walks that recurse (decryption in secrets/, dumping)
// are therefore bounded by kMaxComponentDepth frames; the ones here are loops.
#include "runner/component.hpp"

#include "logging/json_reader.hpp"
#include "logging/kestra_namespace.hpp"
#include "runner/component_fields.hpp"
#include "runner/component_limits.hpp"
#include "runner/component_stages.hpp"
#include "runner/component_syntax.hpp"
#include "runner/errors.hpp"
#include "runner/keboola_env.hpp"
#include "secrets/config_cipher.hpp"
#include "secrets/secret_scrubber.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace runner {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxArgBytes = 131072;           // MAX_ARG_STRLEN: one argument or "K=V"
constexpr std::size_t kMaxArgTotal = 2 * 1024 * 1024;  // ARG_MAX with the default 8 MiB stack

void parse_env(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  const json env = read_object(doc, "env", "$", problems);
  const auto& reserved = reserved_env_names();
  for (const auto& [key, value] : env.items()) {
    const std::string path = child("$.env", key);
    const bool secret = !key.empty() && key[0] == '#';
    const std::string name = secret ? key.substr(1) : key;
    if (!is_env_name(name)) {
      problems.add(path,
                   "expected a variable name of letters, digits and '_', not starting with "
                   "a digit, at most " +
                       std::to_string(kMaxEnvNameLength) +
                       " characters (optionally prefixed with '#' to mark a secret)");
      continue;
    }
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end() ||
        is_keboola_env_name(name)) {
      problems.add(path, "reserved: runner sets " + name + " itself");
      continue;
    }
    if (spec.env.count(name) != 0) {
      problems.add(path, "duplicate: " + name + " is given both with and without '#'");
      continue;
    }
    if (!value.is_string()) {
      problems.expected(path, "a string", value);
      continue;
    }
    spec.env[name] = value.get<std::string>();
    if (secret) spec.secret_env.push_back(name);
  }
}

void parse_auth(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (!doc.contains("auth")) return;
  const json& auth = doc.at("auth");
  if (!auth.is_object()) {
    problems.expected("$.auth", "an object with username, #password and server", auth);
    return;
  }
  check_keys(auth, "$.auth", {"username", "password", "#password", "server"}, problems);
  RegistryCredentials creds;
  auto user = read_string(auth, "username", "$.auth", problems);
  if (!user && !auth.contains("username")) problems.add("$.auth.username", "required");
  auto pass = read_string(auth, "#password", "$.auth", problems);
  if (!pass) pass = read_string(auth, "password", "$.auth", problems);
  if (!pass && !auth.contains("#password") && !auth.contains("password"))
    problems.add("$.auth.#password", "required (the registry password or token)");
  creds.username = user.value_or("");
  creds.password = pass.value_or("");
  creds.server = read_string(auth, "server", "$.auth", problems).value_or("");
  spec.auth = creds;
}

void parse_verbosity(const json& verbosity, ComponentSpec& spec, ProblemList& problems) {
  if (!verbosity.is_object()) {
    problems.expected("$.logging.verbosity", "an object such as {\"debug\": \"normal\"}",
                      verbosity);
    return;
  }
  // Keys: level names, or the Monolog numbers Keboola's component definitions use.
  static const std::vector<std::pair<std::string, std::string>> monolog = {
      {"100", "debug"}, {"200", "info"},     {"250", "notice"}, {"300", "warning"},
      {"400", "error"}, {"500", "critical"}, {"550", "alert"},  {"600", "emergency"}};
  static const std::array<const char*, 8> names = {"debug", "info",     "notice", "warning",
                                                   "error", "critical", "alert",  "emergency"};
  for (const auto& [key, value] : verbosity.items()) {
    const std::string path = child("$.logging.verbosity", key);
    std::string name = key;
    for (const auto& [number, level] : monolog)
      if (key == number) name = level;
    const auto level = std::find(names.begin(), names.end(), name);
    if (level == names.end()) {
      problems.add(path,
                   "unknown level (expected debug, info, notice, warning, error, critical, "
                   "alert, emergency, or Keboola's 100-600)");
      continue;
    }
    const std::string v = value.is_string() ? value.get<std::string>() : "";
    Visibility visibility;
    if (v == "none")
      visibility = Visibility::none;
    else if (v == "camouflage")
      visibility = Visibility::camouflage;
    else if (v == "normal")
      visibility = Visibility::normal;
    else if (v == "verbose")
      visibility = Visibility::verbose;
    else {
      problems.expected(path, "\"none\", \"camouflage\", \"normal\" or \"verbose\"", value);
      continue;
    }
    spec.logging.verbosity[static_cast<std::size_t>(level - names.begin())] = visibility;
  }
}

void parse_logging(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (!doc.contains("logging")) return;
  const json& logging = doc.at("logging");
  if (!logging.is_object()) {
    problems.expected("$.logging", "an object such as {\"type\": \"standard\"}", logging);
    return;
  }
  check_keys(logging, "$.logging",
             {"type", "gelf_server_type", "verbosity", "no_application_errors", "kestra_protocol"},
             problems);
  if (logging.contains("type")) {
    const json& t = logging.at("type");
    if (!t.is_string() || (t.get<std::string>() != "standard" && t.get<std::string>() != "gelf"))
      problems.expected("$.logging.type", "\"standard\" or \"gelf\"", t);
    else
      spec.logging.type = t.get<std::string>();
  }
  if (logging.contains("gelf_server_type")) {
    const json& t = logging.at("gelf_server_type");
    const std::string v = t.is_string() ? t.get<std::string>() : "";
    if (v != "tcp" && v != "udp" && v != "http")
      problems.expected("$.logging.gelf_server_type", "\"tcp\", \"udp\" or \"http\"", t);
    else
      spec.logging.gelf_server_type = v;
  }
  if (logging.contains("verbosity")) parse_verbosity(logging.at("verbosity"), spec, problems);
  if (logging.contains("no_application_errors")) {
    const json& v = logging.at("no_application_errors");
    if (!v.is_boolean())
      problems.expected("$.logging.no_application_errors", "true or false", v);
    else
      spec.logging.no_application_errors = v.get<bool>();
  }
  if (logging.contains("kestra_protocol")) {
    const json& v = logging.at("kestra_protocol");
    if (!v.is_boolean())
      problems.expected("$.logging.kestra_protocol", "true or false", v);
    else
      spec.logging.kestra_protocol = v.get<bool>();
  }
}

// "security": what runner takes away from every container by default, and gives back on request
// (docs/component.md: each capability given back weakens the isolation between jobs).
void parse_security(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (!doc.contains("security")) return;
  const json& security = doc.at("security");
  if (!security.is_object()) {
    problems.expected("$.security", "an object such as {\"cap_add\": [\"NET_RAW\"]}", security);
    return;
  }
  check_keys(security, "$.security", {"cap_add", "no_new_privileges"}, problems);
  if (auto names = read_string_array(security, "cap_add", "$.security", problems)) {
    for (std::size_t i = 0; i < names->size(); ++i) {
      const auto name = capability_name((*names)[i]);
      if (!name) {
        problems.expected("$.security.cap_add[" + std::to_string(i) + "]",
                          "a Linux capability name such as \"NET_RAW\" or \"SYS_PTRACE\"",
                          security.at("cap_add")[i]);
      } else if (std::find(spec.security.cap_add.begin(), spec.security.cap_add.end(), *name) ==
                 spec.security.cap_add.end()) {
        spec.security.cap_add.push_back(*name);
      }
    }
  }
  if (security.contains("no_new_privileges")) {
    const json& v = security.at("no_new_privileges");
    if (!v.is_boolean())
      problems.expected("$.security.no_new_privileges", "true or false", v);
    else
      spec.security.no_new_privileges = v.get<bool>();
  }
}

// What the engine (or the kernel, when it starts the process) would refuse: a NUL inside a
// string it passes on as a C string, and arguments or environment entries over the kernel's
// limits. Messages never quote the values: an environment value may be a secret.
void check_engine_strings(const ComponentSpec& spec, ProblemList& problems) {
  std::size_t total = 0;
  auto check_arg = [&](const std::string& path, std::string_view text, std::size_t extra) {
    total += text.size() + extra + 1;
    if (text.find('\0') != std::string_view::npos)
      problems.add(path, "contains a NUL character (\\u0000), which no program can receive");
    else if (text.size() + extra + 1 > kMaxArgBytes)
      problems.add(path, "is " + std::to_string(text.size()) +
                             " bytes long: Linux passes at most " + std::to_string(kMaxArgBytes) +
                             " bytes per argument or environment entry");
  };
  for (const auto* list : {&spec.command, &spec.entrypoint}) {
    if (!*list) continue;
    const std::string key = list == &spec.command ? "$.command" : "$.entrypoint";
    for (std::size_t i = 0; i < (*list)->size(); ++i)
      check_arg(key + "[" + std::to_string(i) + "]", (**list)[i], 0);
  }
  for (const auto& [name, value] : spec.env) {
    const bool secret =
        std::find(spec.secret_env.begin(), spec.secret_env.end(), name) != spec.secret_env.end();
    check_arg(child("$.env", secret ? "#" + name : name), value, name.size() + 1);
  }
  check_arg("$.config_id", spec.config_id, std::string_view("KBC_CONFIGID=").size());
  if (total > kMaxArgTotal)
    problems.add("$", "command, entrypoint and environment take " + std::to_string(total) +
                          " bytes: more than the " + std::to_string(kMaxArgTotal) +
                          " bytes Linux allows a process to start with");
  for (const auto& [key, value] : spec.labels) {
    if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos)
      problems.add(child("$.labels", key), "contains a NUL character (\\u0000)");
  }
}

// "id", "image" and "namespace": what names the component, checked for their syntax.
void parse_identity(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (auto id = read_string(doc, "id", "$", problems)) {
    if (!is_component_id(*id))
      problems.add("$.id",
                   "expected letters, digits, '.', '_' and '-', starting with a letter or "
                   "digit, at most " +
                       std::to_string(kMaxComponentIdLength) +
                       " characters (such as \"my-org.ex-hello\"), got " +
                       describe_json(doc.at("id")));
    else
      spec.id = *id;
  } else if (!doc.contains("id")) {
    problems.add("$.id", "required: the component id, such as \"my-org.ex-hello\"");
  }
  if (auto image = read_string(doc, "image", "$", problems)) {
    if (auto problem = image_reference_problem(*image))
      problems.add("$.image",
                   "expected an image reference such as \"busybox:1.36\" or "
                   "\"registry.example.com:5000/team/app:v2\": " +
                       *problem + ", got " + describe_json(doc.at("image")));
    else
      spec.image = *image;
  } else if (!doc.contains("image")) {
    problems.add("$.image", "required: the Docker image to run, such as \"runner-busybox:latest\"");
  }
  // Kestra's namespace rule: lower-case dot-separated words; "a.b" is a child of "a".
  if (auto ns = read_string(doc, "namespace", "$", problems)) {
    if (!logging::is_kestra_namespace(*ns))
      problems.add("$.namespace",
                   "expected lower-case words separated by dots (such as \"company.team\"), at "
                   "most " +
                       std::to_string(logging::kMaxNamespaceLength) + " characters, got " +
                       describe_json(doc.at("namespace")));
    else
      spec.namespace_name = *ns;
  }
}

// "network", "user", "labels" and "pull_policy": how the container is made.
void parse_container_settings(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (auto network = read_string(doc, "network", "$", problems)) {
    if (*network != "bridge" && *network != "none")
      problems.expected("$.network", "\"bridge\" or \"none\"", doc.at("network"));
    else
      spec.network = *network;
  }
  if (auto user = read_string(doc, "user", "$", problems)) {
    if (auto problem = user_problem(*user))
      problems.add("$.user",
                   "expected a user name or uid, optionally with \":group\" or "
                   "\":gid\" (such as \"1000:1000\" or \"app\"): " +
                       *problem + ", got " + describe_json(doc.at("user")));
    else
      spec.user = *user;
  }
  spec.labels = read_string_map(doc, "labels", "$", problems);
  for (const auto& [key, value] : spec.labels) {
    if (key.rfind(kLabelPrefix, 0) == 0)
      problems.add(child("$.labels", key), std::string("reserved: labels starting with \"") +
                                               kLabelPrefix + "\" are set by runner");
    if (key.empty()) problems.add("$.labels", "a label name may not be empty");
  }
  if (auto policy = read_string(doc, "pull_policy", "$", problems)) {
    if (*policy == "if-not-present")
      spec.pull_policy = PullPolicy::if_not_present;
    else if (*policy == "always")
      spec.pull_policy = PullPolicy::always;
    else if (*policy == "never")
      spec.pull_policy = PullPolicy::never;
    else
      problems.expected("$.pull_policy", "\"if-not-present\", \"always\" or \"never\"",
                        doc.at("pull_policy"));
  }
  if (auto handling = read_string(doc, "file_handling", "$", problems)) {
    if (auto parsed = parse_file_handling(*handling))
      spec.file_handling = *parsed;
    else
      problems.expected("$.file_handling", "\"auto\", \"mount\" or \"copy\"",
                        doc.at("file_handling"));
  }
}

// "config_version" and "data_type_support": what Keboola tells a component about its
// configuration through the environment.
void parse_keboola_settings(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (doc.contains("config_version")) {
    const json& v = doc.at("config_version");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1)
      problems.expected("$.config_version", "a whole number of at least 1", v);
    else
      spec.config_version = v.get<std::int64_t>();
  }
  if (auto support = read_string(doc, "data_type_support", "$", problems)) {
    if (*support == "authoritative")
      spec.data_type_support = DataTypeSupport::authoritative;
    else if (*support == "hints")
      spec.data_type_support = DataTypeSupport::hints;
    else if (*support == "none")
      spec.data_type_support = DataTypeSupport::none;
    else
      problems.expected("$.data_type_support", "\"authoritative\", \"hints\" or \"none\"",
                        doc.at("data_type_support"));
  }
}

}  // namespace

const char* data_type_support_name(DataTypeSupport support) {
  switch (support) {
    case DataTypeSupport::authoritative:
      return "authoritative";
    case DataTypeSupport::hints:
      return "hints";
    case DataTypeSupport::none:
      break;
  }
  return "none";
}

std::string_view visibility_name(Visibility v) {
  switch (v) {
    case Visibility::none:
      return "none";
    case Visibility::camouflage:
      return "camouflage";
    case Visibility::normal:
      return "normal";
    default:
      return "verbose";
  }
}

const std::vector<std::string>& reserved_env_names() {
  static const std::vector<std::string> names = {
      "KBC_DATADIR",     "KBC_RUNID",         "KBC_PROJECTID",
      "KBC_CONFIGID",    "KBC_CONFIGVERSION", "KBC_COMPONENTID",
      "KBC_STACKID",     "KBC_BRANCHID",      "KBC_COMPONENT_RUN_MODE",
      "KBC_LOGGER_ADDR", "KBC_LOGGER_PORT",   "KBC_CONFIGROWID"};
  return names;
}

ComponentSpec parse_component(const json& doc) {
  ProblemList problems;
  ComponentSpec spec;
  if (!doc.is_object()) {
    problems.expected("$", "a JSON object with at least \"id\" and \"image\"", doc);
    throw ConfigError(problems.take());
  }
  check_keys(doc, "$", {"id",         "image",      "command",          "entrypoint",
                        "env",        "parameters", "image_parameters", "authorization",
                        "action",     "config_id",  "limits",           "network",
                        "user",       "labels",     "pull_policy",      "auth",
                        "logging",    "namespace",  "security",         "file_handling",
                        "processors", "rows"},
             problems, {"storage", "config_version", "data_type_support"});  // Keboola's (issue 13)

  parse_identity(doc, spec, problems);
  spec.command = read_string_array(doc, "command", "$", problems);
  spec.entrypoint = read_string_array(doc, "entrypoint", "$", problems);
  parse_env(doc, spec, problems);
  spec.parameters = read_object(doc, "parameters", "$", problems);
  spec.parameters_given = doc.contains("parameters");
  // Keboola's input and output mapping, written to config.json as given (components read it).
  spec.storage = read_object(doc, "storage", "$", problems);
  spec.image_parameters = read_object(doc, "image_parameters", "$", problems);
  spec.authorization = read_object(doc, "authorization", "$", problems);
  spec.action = read_string(doc, "action", "$", problems).value_or("run");
  if (!is_component_id(spec.action)) {
    problems.expected("$.action",
                      "\"run\" or a sync action's name such as \"testConnection\" (letters, "
                      "digits, '.', '_' and '-')",
                      doc.at("action"));
    spec.action = "run";
  }
  spec.config_id = read_string(doc, "config_id", "$", problems, false).value_or("");
  parse_keboola_settings(doc, spec, problems);
  parse_limits(doc, spec, problems);
  parse_container_settings(doc, spec, problems);
  parse_security(doc, spec, problems);
  check_engine_strings(spec, problems);
  parse_auth(doc, spec, problems);
  parse_logging(doc, spec, problems);
  parse_stages(doc, spec, problems);
  if (spec.logging.type == "gelf" && spec.network == "none")
    problems.add("$.logging.type",
                 "\"gelf\" needs a network: the component sends its logs to runner's GELF server "
                 "over the bridge network, but $.network is \"none\"");
  if (!problems.empty()) throw ConfigError(problems.take());
  return spec;
}

json read_component_json(std::string_view text) {
  logging::JsonLimits limits;
  limits.max_depth = kMaxComponentDepth;
  limits.max_bytes = kMaxComponentBytes;
  try {
    return logging::read_json(text, limits);
  } catch (const logging::JsonInputError& e) {
    throw ConfigError({e.what()});
  }
}

json read_json_file(const std::filesystem::path& path) {
  // The size first, so a huge file (or /dev/zero) is refused without being read.
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<std::uint64_t>(info.st_size) > kMaxComponentBytes)
    throw ConfigError({"$: the file is " + std::to_string(info.st_size) +
                       " bytes, more than the limit of " + std::to_string(kMaxComponentBytes)});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path.string() + ": cannot read the file"});
  std::string text;
  std::array<char, 65536> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxComponentBytes)
      throw ConfigError({"$: the file is more than the limit of " +
                         std::to_string(kMaxComponentBytes) + " bytes"});
  }
  return read_component_json(text);
}

namespace {
// Iterative: a document handed to prepare_component by an embedding program has not been
// through read_json's depth limit yet.
bool contains_ciphertext(const json& doc) {
  std::vector<const json*> pending = {&doc};
  while (!pending.empty()) {
    const json* value = pending.back();
    pending.pop_back();
    if (value->is_string() && secrets::is_ciphertext(value->get_ref<const std::string&>()))
      return true;
    if (value->is_structured())
      for (const auto& child : *value) pending.push_back(&child);
  }
  return false;
}

// A secret in a value runner writes in the clear into its records (the result record, the
// store, `runner jobs`, shipped files) or onto the container's metadata is refused: checking
// here, once, is what guarantees that every record is free of secrets (docs/secrets.md).
// Secrets of one or two characters are not checked: they would match nearly any name, and
// runner already warns that it cannot keep them out of text.
std::vector<std::string> secrets_in_record_fields(const ComponentSpec& spec) {
  std::vector<std::string> checked;
  for (const auto& s : spec.secrets)
    if (s.size() >= 3) checked.push_back(s);
  if (checked.empty()) return {};
  const secrets::SecretMatcher matcher(checked);
  std::vector<std::string> problems;
  auto check = [&](const std::string& path, const std::string& value, const char* where) {
    if (secrets::scrub_text(matcher, value) != value)
      problems.push_back(path +
                         ": contains a secret (a value given under a '#' key or "
                         "encrypted): " +
                         std::string(where) + ", so it may not contain one");
  };
  const char* recorded = "it is written in the clear into the job's records and the store";
  check("$.id", spec.id, recorded);
  check("$.namespace", spec.namespace_name, recorded);
  check("$.image", spec.image, "it is shown in events and written into the container's metadata");
  check("$.config_id", spec.config_id, "it is written into the container's metadata");
  for (const auto* list : {&spec.processors.before, &spec.processors.after})
    for (const auto& processor : *list) {
      check("$.processors", processor.id, recorded);
      check("$.processors", processor.image, "it is shown in events");
    }
  for (const auto& row : spec.rows) check("$.rows", row.id, recorded);
  for (const auto& [key, value] : spec.labels) {
    const char* label = "labels are written into the container's metadata";
    check(child("$.labels", secrets::scrub_text(matcher, key)), key, label);
    check(child("$.labels", secrets::scrub_text(matcher, key)), value, label);
  }
  return problems;
}
}  // namespace

ComponentSpec prepare_component(json doc, const KeyLookup& find_key) {
  if (logging::json_deeper_than(doc, kMaxComponentDepth))
    throw ConfigError({"$: nested deeper than " + std::to_string(kMaxComponentDepth) +
                       " levels of arrays and objects"});
  std::optional<secrets::EncryptionKey> key;
  std::vector<std::string> key_problems;
  if (contains_ciphertext(doc)) {
    try {
      key = find_key();
    } catch (const std::exception& e) {
      key_problems.push_back(std::string("$: cannot load the encryption key: ") + e.what());
    }
  }
  secrets::DecryptResult decrypted = secrets::decrypt_and_collect(doc, key);
  if (!key_problems.empty() || !decrypted.ok()) {
    key_problems.insert(key_problems.end(), decrypted.errors.begin(), decrypted.errors.end());
    throw ConfigError(std::move(key_problems));
  }
  try {
    ComponentSpec spec = parse_component(doc);
    spec.secrets = decrypted.secrets;
    if (auto problems = secrets_in_record_fields(spec); !problems.empty()) {
      // Worded without the value: the line itself must not show the secret.
      throw ConfigError(std::move(problems));
    }
    return spec;
  } catch (const ConfigError& e) {
    // Validation messages quote values; a decrypted value must not appear in them.
    std::vector<std::string> lines = e.problems();
    if (!decrypted.secrets.empty()) {
      const secrets::SecretMatcher matcher(decrypted.secrets);
      for (auto& line : lines) line = secrets::scrub_text(matcher, line);
    }
    throw ConfigError(std::move(lines));
  }
}

ComponentSpec load_component_file(const std::filesystem::path& path, const KeyLookup& find_key) {
  return prepare_component(inline_processor_files(read_json_file(path), path.parent_path()),
                           find_key);
}

std::optional<FileHandling> parse_file_handling(std::string_view text) {
  if (text == "auto") return FileHandling::automatic;
  if (text == "mount") return FileHandling::mount;
  if (text == "copy") return FileHandling::copy;
  return std::nullopt;
}

const char* file_handling_name(FileHandling handling) {
  switch (handling) {
    case FileHandling::mount:
      return "mount";
    case FileHandling::copy:
      return "copy";
    case FileHandling::automatic:
      break;
  }
  return "auto";
}

}  // namespace runner

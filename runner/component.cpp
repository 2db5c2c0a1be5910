// component.json validation. A small ProblemList collects "$.path: expected ..., got ..." lines;
// each field is read by a helper that knows its expected type, so messages stay uniform.
#include "runner/component.hpp"

#include "runner/errors.hpp"
#include "secrets/config_cipher.hpp"
#include "secrets/secret_scrubber.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace runner {
namespace {

using nlohmann::json;

std::string describe(const json& value) {
  std::string text;
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    default:
      text = value.dump();
      break;
  }
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

class ProblemList {
 public:
  void add(const std::string& path, const std::string& what) {
    lines_.push_back(path + ": " + what);
  }
  void expected(const std::string& path, const std::string& what, const json& got) {
    add(path, "expected " + what + ", got " + describe(got));
  }
  bool empty() const { return lines_.empty(); }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
};

void check_keys(const json& obj, const std::string& path, const std::set<std::string>& allowed,
                ProblemList& problems) {
  for (const auto& [key, value] : obj.items()) {
    if (allowed.count(key) != 0) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    problems.add(path + "." + key, "unknown key (expected one of: " + list + ")");
  }
}

std::optional<std::string> read_string(const json& obj, const std::string& key,
                                       const std::string& path, ProblemList& problems,
                                       bool non_empty = true) {
  if (!obj.contains(key)) return std::nullopt;
  const json& v = obj.at(key);
  if (!v.is_string() || (non_empty && v.get<std::string>().empty())) {
    problems.expected(path + "." + key, non_empty ? "a non-empty string" : "a string", v);
    return std::nullopt;
  }
  return v.get<std::string>();
}

std::optional<std::vector<std::string>> read_string_array(const json& obj, const std::string& key,
                                                          const std::string& path,
                                                          ProblemList& problems) {
  if (!obj.contains(key)) return std::nullopt;
  const json& v = obj.at(key);
  if (!v.is_array()) {
    problems.expected(path + "." + key, "an array of strings such as [\"sh\", \"-c\", \"...\"]", v);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      problems.expected(path + "." + key + "[" + std::to_string(i) + "]", "a string", v[i]);
      continue;
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

json read_object(const json& obj, const std::string& key, const std::string& path,
                 ProblemList& problems) {
  if (!obj.contains(key)) return json::object();
  const json& v = obj.at(key);
  if (!v.is_object()) {
    problems.expected(path + "." + key, "an object", v);
    return json::object();
  }
  return v;
}

std::map<std::string, std::string> read_string_map(const json& obj, const std::string& key,
                                                   const std::string& path, ProblemList& problems) {
  std::map<std::string, std::string> out;
  const json m = read_object(obj, key, path, problems);
  for (const auto& [k, v] : m.items()) {
    if (!v.is_string()) {
      problems.expected(path + "." + key + "." + k, "a string", v);
      continue;
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

void parse_limits(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (!doc.contains("limits")) return;
  const json& limits = doc.at("limits");
  if (!limits.is_object()) {
    problems.expected("$.limits", "an object", limits);
    return;
  }
  check_keys(limits, "$.limits", {"memory", "memory_swap", "cpus", "pids", "timeout"}, problems);
  const std::string size_hint =
      "a size such as \"256m\" or \"1g\" (a number with unit b, k, m or g)";
  bool memory_ok = true;
  if (limits.contains("memory")) {
    const json& v = limits.at("memory");
    std::optional<std::int64_t> bytes;
    if (v.is_string())
      bytes = parse_size(v.get<std::string>());
    else if (v.is_number_integer())
      bytes = v.get<std::int64_t>();
    if (!bytes || *bytes <= 0) {
      problems.expected("$.limits.memory", size_hint, v);
      memory_ok = false;
    } else if (*bytes < 6LL * 1024 * 1024) {
      problems.add("$.limits.memory",
                   "expected at least \"6m\" (the Docker engine's minimum), got " + describe(v));
      memory_ok = false;
    } else {
      spec.limits.memory_bytes = *bytes;
      spec.limits.memory_text = v.is_string() ? v.get<std::string>() : std::to_string(*bytes);
    }
  }
  spec.limits.memory_swap_bytes = spec.limits.memory_bytes;
  if (limits.contains("memory_swap")) {
    const json& v = limits.at("memory_swap");
    std::optional<std::int64_t> bytes;
    if (v.is_string())
      bytes = v.get<std::string>() == "-1" ? std::optional<std::int64_t>(-1)
                                           : parse_size(v.get<std::string>());
    else if (v.is_number_integer())
      bytes = v.get<std::int64_t>();
    if (!bytes || (*bytes <= 0 && *bytes != -1)) {
      problems.expected("$.limits.memory_swap", size_hint + ", or -1 for unlimited swap", v);
    } else if (*bytes != -1 && memory_ok && *bytes < spec.limits.memory_bytes) {
      problems.add("$.limits.memory_swap", "expected at least limits.memory (" +
                                               spec.limits.memory_text +
                                               "): it is memory plus swap, got " + describe(v));
    } else {
      spec.limits.memory_swap_bytes = *bytes;
    }
  }
  if (limits.contains("cpus")) {
    const json& v = limits.at("cpus");
    if (!v.is_number() || !(v.get<double>() >= 0.01) || !std::isfinite(v.get<double>()))
      problems.expected("$.limits.cpus", "a number of CPUs of at least 0.01, such as 1.5", v);
    else
      spec.limits.cpus = v.get<double>();
  }
  if (limits.contains("pids")) {
    const json& v = limits.at("pids");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1)
      problems.expected("$.limits.pids", "a whole number of processes of at least 1", v);
    else
      spec.limits.pids = v.get<std::int64_t>();
  }
  if (limits.contains("timeout")) {
    const json& v = limits.at("timeout");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 86400)
      problems.expected("$.limits.timeout", "whole seconds from 1 to 86400 (24 hours)", v);
    else
      spec.limits.timeout_seconds = static_cast<int>(v.get<std::int64_t>());
  }
}

void parse_env(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  const json env = read_object(doc, "env", "$", problems);
  static const std::regex name_re("^[A-Za-z_][A-Za-z0-9_]*$");
  const auto& reserved = reserved_env_names();
  for (const auto& [key, value] : env.items()) {
    const std::string path = "$.env." + key;
    const bool secret = !key.empty() && key[0] == '#';
    const std::string name = secret ? key.substr(1) : key;
    if (!std::regex_match(name, name_re)) {
      problems.add(path,
                   "expected a variable name of letters, digits and '_' (optionally prefixed "
                   "with '#' to mark a secret)");
      continue;
    }
    if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
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
    const std::string path = "$.logging.verbosity." + key;
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
             {"type", "gelf_server_type", "verbosity", "no_application_errors"}, problems);
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
}

}  // namespace

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
      "KBC_LOGGER_ADDR", "KBC_LOGGER_PORT"};
  return names;
}

std::optional<std::int64_t> parse_size(std::string_view text) {
  static const std::regex size_re(
      R"(^\s*([0-9]+(?:\.[0-9]+)?)\s*([bkmgtBKMGT]?)(?:[iI]?[bB])?\s*$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, size_re)) return std::nullopt;
  const double number = std::stod(m[1].str());
  double unit = 1;
  switch (std::tolower(m[2].str().empty() ? 'b' : m[2].str()[0])) {
    case 'k':
      unit = 1024.0;
      break;
    case 'm':
      unit = 1024.0 * 1024;
      break;
    case 'g':
      unit = 1024.0 * 1024 * 1024;
      break;
    case 't':
      unit = 1024.0 * 1024 * 1024 * 1024;
      break;
    default:
      break;
  }
  const double bytes = number * unit;
  if (bytes > 9.0e18) return std::nullopt;
  return static_cast<std::int64_t>(bytes);
}

ComponentSpec parse_component(const json& doc) {
  ProblemList problems;
  ComponentSpec spec;
  if (!doc.is_object()) {
    problems.expected("$", "a JSON object with at least \"id\" and \"image\"", doc);
    throw ConfigError(problems.take());
  }
  check_keys(doc, "$",
             {"id", "image", "command", "entrypoint", "env", "parameters", "image_parameters",
              "authorization", "action", "config_id", "limits", "network", "user", "labels",
              "pull_policy", "auth", "logging", "namespace"},
             problems);

  static const std::regex id_re("^[A-Za-z0-9][A-Za-z0-9._-]*$");
  if (auto id = read_string(doc, "id", "$", problems)) {
    if (!std::regex_match(*id, id_re))
      problems.add(
          "$.id", "expected letters, digits, '.', '_' and '-' (such as \"my-org.ex-hello\"), got " +
                      describe(doc.at("id")));
    else
      spec.id = *id;
  } else if (!doc.contains("id")) {
    problems.add("$.id", "required: the component id, such as \"my-org.ex-hello\"");
  }
  if (auto image = read_string(doc, "image", "$", problems)) {
    if (image->find_first_of(" \t\n") != std::string::npos)
      problems.add("$.image", "expected an image reference such as \"busybox:latest\", got " +
                                  describe(doc.at("image")));
    else
      spec.image = *image;
  } else if (!doc.contains("image")) {
    problems.add("$.image", "required: the Docker image to run, such as \"runner-busybox:latest\"");
  }
  // Kestra's namespace rule: lower-case dot-separated words; "a.b" is a child of "a".
  static const std::regex namespace_re("^[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)*$");
  if (auto ns = read_string(doc, "namespace", "$", problems)) {
    if (!std::regex_match(*ns, namespace_re))
      problems.add("$.namespace",
                   "expected lower-case words separated by dots (such as \"company.team\"), got " +
                       describe(doc.at("namespace")));
    else
      spec.namespace_name = *ns;
  }
  spec.command = read_string_array(doc, "command", "$", problems);
  spec.entrypoint = read_string_array(doc, "entrypoint", "$", problems);
  parse_env(doc, spec, problems);
  spec.parameters = read_object(doc, "parameters", "$", problems);
  spec.image_parameters = read_object(doc, "image_parameters", "$", problems);
  spec.authorization = read_object(doc, "authorization", "$", problems);
  spec.action = read_string(doc, "action", "$", problems).value_or("run");
  spec.config_id = read_string(doc, "config_id", "$", problems, false).value_or("");
  parse_limits(doc, spec, problems);
  if (auto network = read_string(doc, "network", "$", problems)) {
    if (*network != "bridge" && *network != "none")
      problems.expected("$.network", "\"bridge\" or \"none\"", doc.at("network"));
    else
      spec.network = *network;
  }
  spec.user = read_string(doc, "user", "$", problems).value_or("");
  spec.labels = read_string_map(doc, "labels", "$", problems);
  for (const auto& [key, value] : spec.labels)
    if (key.rfind(kLabelPrefix, 0) == 0)
      problems.add("$.labels." + key, std::string("reserved: labels starting with \"") +
                                          kLabelPrefix + "\" are set by runner");
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
  parse_auth(doc, spec, problems);
  parse_logging(doc, spec, problems);
  if (spec.logging.type == "gelf" && spec.network == "none")
    problems.add("$.logging.type",
                 "\"gelf\" needs a network: the component sends its logs to runner's GELF server "
                 "over the bridge network, but $.network is \"none\"");
  if (!problems.empty()) throw ConfigError(problems.take());
  return spec;
}

json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path.string() + ": cannot read the file"});
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // Turn nlohmann's byte offset into a line and column a person can find.
    std::size_t line = 1, column = 1;
    const std::size_t end = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    for (std::size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    const auto colon = what.find("syntax error");
    if (colon != std::string::npos) what = what.substr(colon);
    throw ConfigError({"$: not valid JSON at line " + std::to_string(line) + ", column " +
                       std::to_string(column) + ": " + what});
  }
}

namespace {
bool contains_ciphertext(const json& value) {
  if (value.is_string()) return secrets::is_ciphertext(value.get_ref<const std::string&>());
  if (value.is_structured())
    for (const auto& child : value)
      if (contains_ciphertext(child)) return true;
  return false;
}
}  // namespace

ComponentSpec prepare_component(json doc, const KeyLookup& find_key) {
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
    spec.secrets = std::move(decrypted.secrets);
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
  return prepare_component(read_json_file(path), find_key);
}

}  // namespace runner

// component.json validation: defaults, and a table of bad inputs with the exact error for each.
#include "runner/component.hpp"
#include "runner/errors.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using nlohmann::json;
using runner::ConfigError;
using runner::parse_component;

namespace {
std::vector<std::string> problems_of(const json& doc) {
  try {
    parse_component(doc);
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}
json base() {
  return {{"id", "my.comp"}, {"image", "runner-busybox:latest"}};
}
}  // namespace

TEST_CASE("defaults follow Keboola", "[runner][component]") {
  const auto spec = parse_component(base());
  CHECK(spec.limits.memory_bytes == 256LL * 1024 * 1024);
  CHECK(spec.limits.memory_swap_bytes == spec.limits.memory_bytes);
  CHECK(spec.limits.memory_text == "256m");
  CHECK(spec.limits.timeout_seconds == 3600);
  CHECK(spec.network == "bridge");
  CHECK(spec.logging.type == "standard");
  CHECK(spec.pull_policy == runner::PullPolicy::if_not_present);
  CHECK_FALSE(spec.command.has_value());
}

TEST_CASE("a full component parses", "[runner][component]") {
  json doc = base();
  doc["command"] = {"sh", "-c", "echo hi"};
  doc["entrypoint"] = {"/bin/env"};
  doc["env"] = {{"A", "1"}, {"#TOKEN", "secret"}};
  doc["parameters"] = {{"x", 1}};
  doc["limits"] = {
      {"memory", "1g"}, {"memory_swap", "2g"}, {"cpus", 1.5}, {"pids", 100}, {"timeout", 60}};
  doc["network"] = "none";
  doc["user"] = "1000:1000";
  doc["labels"] = {{"team", "data"}};
  doc["pull_policy"] = "never";
  doc["auth"] = {{"username", "u"}, {"#password", "p"}, {"server", "registry.example"}};
  doc["logging"] = {{"type", "standard"}, {"no_application_errors", true}};
  const auto spec = parse_component(doc);
  CHECK(spec.command->size() == 3);
  CHECK(spec.env.at("TOKEN") == "secret");
  CHECK(spec.secret_env == std::vector<std::string>{"TOKEN"});
  CHECK(spec.limits.memory_bytes == 1024LL * 1024 * 1024);
  CHECK(spec.limits.memory_swap_bytes == 2048LL * 1024 * 1024);
  CHECK(*spec.limits.cpus == 1.5);
  CHECK(*spec.limits.pids == 100);
  CHECK(spec.limits.timeout_seconds == 60);
  CHECK(spec.network == "none");
  CHECK(spec.auth->password == "p");
  CHECK(spec.logging.no_application_errors);
}

TEST_CASE("GELF logging settings and Keboola's verbosity defaults", "[runner][component]") {
  using runner::Visibility;
  json doc = base();
  auto spec = parse_component(doc);
  CHECK(spec.logging.verbosity[0] == Visibility::none);        // debug
  CHECK(spec.logging.verbosity[4] == Visibility::normal);      // error
  CHECK(spec.logging.verbosity[5] == Visibility::camouflage);  // critical
  doc["logging"] = {{"type", "gelf"},
                    {"gelf_server_type", "udp"},
                    {"verbosity", {{"debug", "verbose"}, {"500", "normal"}}}};
  spec = parse_component(doc);
  CHECK(spec.logging.type == "gelf");
  CHECK(spec.logging.gelf_server_type == "udp");
  CHECK(spec.logging.verbosity[0] == Visibility::verbose);
  CHECK(spec.logging.verbosity[5] == Visibility::normal);
  CHECK(spec.logging.verbosity[6] == Visibility::camouflage);
}

TEST_CASE("sizes are parsed like Docker's", "[runner][component]") {
  using runner::parse_size;
  CHECK(parse_size("256m") == 256LL * 1024 * 1024);
  CHECK(parse_size("256MB") == 256LL * 1024 * 1024);
  CHECK(parse_size("1GiB") == 1024LL * 1024 * 1024);
  CHECK(parse_size("1.5g") == 1536LL * 1024 * 1024);
  CHECK(parse_size("512k") == 512 * 1024);
  CHECK(parse_size("1048576") == 1048576);
  CHECK_FALSE(parse_size("12x").has_value());
  CHECK_FALSE(parse_size("-5m").has_value());
  CHECK_FALSE(parse_size("").has_value());
  CHECK_FALSE(parse_size("m").has_value());
}

TEST_CASE("bad inputs: one line per problem naming the path and what was expected",
          "[runner][component]") {
  struct Case {
    json patch;  // merged into a valid base
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{{"image", 5}}, "$.image: expected a non-empty string, got 5"},
      {{{"image", ""}}, "$.image: expected a non-empty string, got \"\""},
      {{{"id", "bad id!"}},
       "$.id: expected letters, digits, '.', '_' and '-' (such as \"my-org.ex-hello\"), got \"bad "
       "id!\""},
      {{{"command", "echo hi"}},
       "$.command: expected an array of strings such as [\"sh\", \"-c\", \"...\"], got \"echo "
       "hi\""},
      {{{"command", {"sh", 1}}}, "$.command[1]: expected a string, got 1"},
      {{{"env", {{"A", 1}}}}, "$.env.A: expected a string, got 1"},
      {{{"env", {{"1BAD", "x"}}}},
       "$.env.1BAD: expected a variable name of letters, digits and '_' (optionally prefixed with "
       "'#' to mark a secret)"},
      {{{"env", {{"KBC_RUNID", "x"}}}}, "$.env.KBC_RUNID: reserved: runner sets KBC_RUNID itself"},
      {{{"parameters", {1, 2}}}, "$.parameters: expected an object, got an array"},
      {{{"limits", {{"memory", "12x"}}}},
       "$.limits.memory: expected a size such as \"256m\" or \"1g\" (a number with unit b, k, m or "
       "g), got \"12x\""},
      {{{"limits", {{"memory", "1m"}}}},
       "$.limits.memory: expected at least \"6m\" (the Docker engine's minimum), got \"1m\""},
      {{{"limits", {{"memory", "512m"}, {"memory_swap", "256m"}}}},
       "$.limits.memory_swap: expected at least limits.memory (512m): it is memory plus swap, got "
       "\"256m\""},
      {{{"limits", {{"cpus", 0}}}},
       "$.limits.cpus: expected a number of CPUs of at least 0.01, such as 1.5, got 0"},
      {{{"limits", {{"pids", 1.5}}}},
       "$.limits.pids: expected a whole number of processes of at least 1, got 1.5"},
      {{{"limits", {{"timeout", 100000}}}},
       "$.limits.timeout: expected whole seconds from 1 to 86400 (24 hours), got 100000"},
      {{{"limits", {{"timeout", "60"}}}},
       "$.limits.timeout: expected whole seconds from 1 to 86400 (24 hours), got \"60\""},
      {{{"limits", {{"disk", "1g"}}}},
       "$.limits.disk: unknown key (expected one of: cpus, memory, memory_swap, pids, timeout)"},
      {{{"network", "host"}}, "$.network: expected \"bridge\" or \"none\", got \"host\""},
      {{{"labels", {{"io.runner.job-id", "x"}}}},
       "$.labels.io.runner.job-id: reserved: labels starting with \"io.runner.\" are set by "
       "runner"},
      {{{"pull_policy", "missing"}},
       "$.pull_policy: expected \"if-not-present\", \"always\" or \"never\", got \"missing\""},
      {{{"auth", {{"username", "u"}}}},
       "$.auth.#password: required (the registry password or token)"},
      {{{"logging", {{"type", "syslog"}}}},
       "$.logging.type: expected \"standard\" or \"gelf\", got \"syslog\""},
      {{{"logging", {{"type", "gelf"}, {"gelf_server_type", "amqp"}}}},
       "$.logging.gelf_server_type: expected \"tcp\", \"udp\" or \"http\", got \"amqp\""},
      {{{"logging", {{"verbosity", {{"debug", "loud"}}}}}},
       "$.logging.verbosity.debug: expected \"none\", \"camouflage\", \"normal\" or \"verbose\", "
       "got \"loud\""},
      {{{"logging", {{"verbosity", {{"trace", "none"}}}}}},
       "$.logging.verbosity.trace: unknown level (expected debug, info, notice, warning, error, "
       "critical, alert, emergency, or Keboola's 100-600)"},
      {{{"logging", {{"type", "gelf"}}}, {"network", "none"}},
       "$.logging.type: \"gelf\" needs a network: the component sends its logs to runner's GELF "
       "server over the bridge network, but $.network is \"none\""},
      {{{"logging", {{"no_application_errors", "yes"}}}},
       "$.logging.no_application_errors: expected true or false, got \"yes\""},
      {{{"imagee", "x"}},
       "$.imagee: unknown key (expected one of: action, auth, authorization, command, config_id, "
       "entrypoint, env, id, image, image_parameters, labels, limits, logging, namespace, network, "
       "parameters, pull_policy, user)"},
      {{{"namespace", "Team A"}},
       "$.namespace: expected lower-case words separated by dots (such as \"company.team\"), got "
       "\"Team A\""},
      {{{"namespace", "team..a"}},
       "$.namespace: expected lower-case words separated by dots (such as \"company.team\"), got "
       "\"team..a\""},
  };
  for (const auto& c : cases) {
    json doc = base();
    doc.update(c.patch);
    INFO(doc.dump());
    CHECK(problems_of(doc) == std::vector<std::string>{c.expected});
  }
}

TEST_CASE("all problems are reported at once, and required keys are named", "[runner][component]") {
  const auto problems =
      problems_of(json{{"limits", {{"memory", "x"}, {"timeout", 0}}}, {"extra", 1}});
  CHECK(problems ==
        std::vector<std::string>{
            "$.extra: unknown key (expected one of: action, auth, authorization, command, "
            "config_id, entrypoint, env, id, image, image_parameters, labels, limits, logging, "
            "namespace, network, parameters, pull_policy, user)",
            "$.id: required: the component id, such as \"my-org.ex-hello\"",
            "$.image: required: the Docker image to run, such as \"runner-busybox:latest\"",
            "$.limits.memory: expected a size such as \"256m\" or \"1g\" (a number with unit b, k, "
            "m or g), got \"x\"",
            "$.limits.timeout: expected whole seconds from 1 to 86400 (24 hours), got 0"});
  CHECK(problems_of(json::array()) ==
        std::vector<std::string>{
            "$: expected a JSON object with at least \"id\" and \"image\", got an array"});
}

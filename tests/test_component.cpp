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

TEST_CASE("file_handling: auto by default, mount or copy when asked", "[runner][component]") {
  CHECK(parse_component(base()).file_handling == runner::FileHandling::automatic);
  json doc = base();
  doc["file_handling"] = "copy";
  CHECK(parse_component(doc).file_handling == runner::FileHandling::copy);
  doc["file_handling"] = "mount";
  CHECK(parse_component(doc).file_handling == runner::FileHandling::mount);
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
       "$.id: expected letters, digits, '.', '_' and '-', starting with a letter or digit, at most "
       "255 characters (such as \"my-org.ex-hello\"), got \"bad id!\""},
      {{{"command", "echo hi"}},
       "$.command: expected an array of strings such as [\"sh\", \"-c\", \"...\"], got \"echo "
       "hi\""},
      {{{"command", {"sh", 1}}}, "$.command[1]: expected a string, got 1"},
      {{{"env", {{"A", 1}}}}, "$.env.A: expected a string, got 1"},
      {{{"env", {{"1BAD", "x"}}}},
       "$.env.1BAD: expected a variable name of letters, digits and '_', not starting with a "
       "digit, "
       "at most 255 characters (optionally prefixed with '#' to mark a secret)"},
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
       "$.limits.cpus: expected a number of CPUs from 0.01 to 1024, such as 1.5, got 0"},
      {{{"limits", {{"pids", 1.5}}}},
       "$.limits.pids: expected a whole number of processes from 1 to 4194304 (Linux's largest "
       "pid), got 1.5"},
      {{{"limits", {{"timeout", 100000}}}},
       "$.limits.timeout: expected whole seconds from 1 to 86400 (24 hours), got 100000"},
      {{{"limits", {{"timeout", "60"}}}},
       "$.limits.timeout: expected whole seconds from 1 to 86400 (24 hours), got \"60\""},
      {{{"limits", {{"disk", "1g"}}}},
       "$.limits.disk: unknown key (expected one of: cpus, memory, memory_swap, pids, timeout)"},
      {{{"network", "host"}}, "$.network: expected \"bridge\" or \"none\", got \"host\""},
      {{{"labels", {{"io.runner.job-id", "x"}}}},
       "$.labels[\"io.runner.job-id\"]: reserved: labels starting with \"io.runner.\" are set by "
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
       "config_version, data_type_support, "
       "entrypoint, env, file_handling, id, image, image_parameters, labels, limits, logging, "
       "namespace, network, "
       "parameters, processors, pull_policy, rows, security, storage, user)"},
      {{{"file_handling", "volume"}},
       "$.file_handling: expected \"auto\", \"mount\" or \"copy\", got \"volume\""},
      {{{"namespace", "Team A"}},
       "$.namespace: expected lower-case words separated by dots (such as \"company.team\"), at "
       "most 255 characters, got \"Team A\""},
      {{{"namespace", "team..a"}},
       "$.namespace: expected lower-case words separated by dots (such as \"company.team\"), at "
       "most 255 characters, got \"team..a\""},
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
            "config_id, config_version, data_type_support, "
            "entrypoint, env, file_handling, id, image, image_parameters, labels, limits, "
            "logging, "
            "namespace, network, parameters, processors, pull_policy, rows, security, storage, "
            "user)",
            "$.id: required: the component id, such as \"my-org.ex-hello\"",
            "$.image: required: the Docker image to run, such as \"runner-busybox:latest\"",
            "$.limits.memory: expected a size such as \"256m\" or \"1g\" (a number with unit b, k, "
            "m or g), got \"x\"",
            "$.limits.timeout: expected whole seconds from 1 to 86400 (24 hours), got 0"});
  CHECK(problems_of(json::array()) ==
        std::vector<std::string>{
            "$: expected a JSON object with at least \"id\" and \"image\", got an array"});
}

// Issue 11: inputs that crashed runner (stack overflows in std::regex and in recursive walks,
// exceptions echoing whole numbers) or reached the engine. Each is now one config error line
// naming the path, short, before anything is created.
namespace {
std::vector<std::string> problems_of_text(const std::string& text) {
  try {
    runner::prepare_component(runner::read_component_json(text),
                              [] { return std::optional<runner::secrets::EncryptionKey>(); });
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}
std::string with(const std::string& members) {
  return R"({"id":"my.comp","image":"runner-busybox:latest",)" + members + "}";
}
}  // namespace

TEST_CASE("100,000-character strings are refused in linear time with a short message",
          "[runner][component][hostile]") {
  const std::string huge(100000, 'a');
  for (const std::string& doc :
       {R"({"id":")" + huge + R"(","image":"x"})", with(R"("namespace":")" + huge + "\""),
        with(R"("env":{")" + huge + R"(":"v"})"), with(R"("limits":{"memory":")" + huge + "\"}"),
        with(R"("user":")" + huge + "\""), R"({"id":"a","image":")" + huge + "\"}"}) {
    const auto problems = problems_of_text(doc);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].size() < 400);
  }
}

TEST_CASE("deep nesting is refused before any walk recurses", "[runner][component][hostile]") {
  const std::string deep_arrays = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += R"({"a":)";
  deep_objects += "1" + std::string(100000, '}');
  for (const std::string& value : {deep_arrays, deep_objects}) {
    const auto problems = problems_of_text(with(R"("parameters":{"p":)" + value + "}"));
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::StartsWith("$.parameters.p") &&
                                Catch::Contains("nested deeper than 256 levels"));
  }
  // A document built in memory (an embedding program) is measured iteratively first.
  json deep = json::array();
  for (int i = 0; i < 100000; ++i) deep = json::array({std::move(deep)});
  json doc = base();
  doc["parameters"] = {{"p", std::move(deep)}};
  CHECK_THROWS_WITH(
      runner::prepare_component(std::move(doc),
                                [] { return std::optional<runner::secrets::EncryptionKey>(); }),
      Catch::Contains("nested deeper than 256 levels"));
  // 200 levels is still a component.
  std::string ok = std::string(200, '[') + std::string(200, ']');
  CHECK(problems_of_text(with(R"("parameters":{"p":)" + ok + "}")).empty());
}

TEST_CASE("numbers out of range, duplicate keys, NULs, engine-refused values",
          "[runner][component][hostile]") {
  const std::pair<std::string, std::string> cases[] = {
      {with(R"("limits":{"timeout":1e999999999})"),
       "$.limits.timeout: number out of range (beyond +-1.8e308, what a double holds): "
       "1e999999999"},
      {with(R"("limits":{"timeout":)" + std::string(100000, '9') + "}"),
       "$.limits.timeout: a number of 100000 characters (at most 100 are accepted): " +
           std::string(40, '9') + "..."},
      {with(R"("limits":{"cpus":1e10})"),
       "$.limits.cpus: expected a number of CPUs from 0.01 to 1024, such as 1.5, got "
       "10000000000.0"},
      {with(R"("limits":{"timeout":18446744073709551615})"),
       "$.limits.timeout: expected whole seconds from 1 to 86400 (24 hours), got "
       "18446744073709551615"},
      {with(R"("limits":{"pids":99999999999})"),
       "$.limits.pids: expected a whole number of processes from 1 to 4194304 (Linux's largest "
       "pid), got 99999999999"},
      {with(R"("limits":{"memory":18446744073709551615})"),
       "$.limits.memory: expected a size such as \"256m\" or \"1g\" (a number with unit b, k, m "
       "or g), got 18446744073709551615"},
      {R"({"id":"a","image":"reviewed:1","image":"other:1"})",
       "$.image: duplicate key: \"image\" is given twice in the same object (only one value can "
       "apply)"},
      {with(R"("command":["sh","-c","echo\u0000hi"])"),
       "$.command[2]: contains a NUL character (\\u0000), which no program can receive"},
      {with(R"("entrypoint":["/bin/sh\u0000"])"),
       "$.entrypoint[0]: contains a NUL character (\\u0000), which no program can receive"},
      {with(R"("env":{"#TOKEN":"a\u0000b"})"),
       "$.env.#TOKEN: contains a NUL character (\\u0000), which no program can receive"},
      {with(R"("labels":{"team":"a\u0000"})"), "$.labels.team: contains a NUL character (\\u0000)"},
      {with(R"("config_id":"1\u0000")"),
       "$.config_id: contains a NUL character (\\u0000), which no program can receive"},
      {with(R"("env":{"BIG":")" + std::string(200000, 'x') + "\"}"),
       "$.env.BIG: is 200000 bytes long: Linux passes at most 131072 bytes per argument or "
       "environment entry"},
      {R"({"id":"a","image":"UPPER/../x::"})",
       "$.image: expected an image reference such as \"busybox:1.36\" or "
       "\"registry.example.com:5000/team/app:v2\": the tag after ':' is empty, got "
       "\"UPPER/../x::\""},
      {with(R"("user":"-1")"),
       "$.user: expected a user name or uid, optionally with \":group\" or \":gid\" (such as "
       "\"1000:1000\" or \"app\"): the user id must be a number from 0 to 2147483647, got \"-1\""},
      {with(R"("security":{"cap_add":["NET_RAWR"]})"),
       "$.security.cap_add[0]: expected a Linux capability name such as \"NET_RAW\" or "
       "\"SYS_PTRACE\", got \"NET_RAWR\""},
      {with(R"("security":{"no_new_privileges":"no"})"),
       "$.security.no_new_privileges: expected true or false, got \"no\""},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text.substr(0, 120));
    CHECK(problems_of_text(text) == std::vector<std::string>{expected});
  }
  // Many arguments that are each fine but together exceed what a process can start with.
  std::string many = R"("command":[)";
  for (int i = 0; i < 30; ++i) many += (i ? ",\"" : "\"") + std::string(100000, 'x') + "\"";
  const auto total = problems_of_text(with(many + "]"));
  REQUIRE(total.size() == 1);
  CHECK_THAT(total[0], Catch::Contains("bytes Linux allows a process to start with"));
}

TEST_CASE("security settings: NET_RAW dropped and no-new-privileges unless given back",
          "[runner][component]") {
  auto spec = parse_component(base());
  CHECK(spec.security.cap_add.empty());
  CHECK(spec.security.no_new_privileges);
  json doc = base();
  doc["security"] = {{"cap_add", {"net_raw", "CAP_SYS_PTRACE", "NET_RAW"}},
                     {"no_new_privileges", false}};
  spec = parse_component(doc);
  CHECK(spec.security.cap_add == std::vector<std::string>{"NET_RAW", "SYS_PTRACE"});
  CHECK_FALSE(spec.security.no_new_privileges);
}

TEST_CASE("a secret inside a value written to records is refused, without showing it",
          "[runner][component][secrets]") {
  auto problems = problems_of_text(
      R"({"id":"acme-hunter22","image":"x","parameters":{"#password":"hunter22"}})");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] ==
        "$.id: contains a secret (a value given under a '#' key or encrypted): it is written in "
        "the clear into the job's records and the store, so it may not contain one");
  problems = problems_of_text(
      R"({"id":"a","image":"x","namespace":"team.hunter22","labels":{"hunter22":"v","k":"hunter22"},"env":{"#T":"hunter22"}})");
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0], Catch::StartsWith("$.namespace: contains a secret"));
  CHECK_THAT(problems[1], Catch::StartsWith("$.labels.[hidden]: contains a secret") ||
                              Catch::StartsWith("$.labels[\"[hidden]\"]: contains a secret"));
  CHECK_THAT(problems[2], Catch::StartsWith("$.labels.k: contains a secret"));
  for (const auto& p : problems) CHECK(p.find("hunter22") == std::string::npos);
  // A secret in the command is allowed (a program may need one as an argument; runner never
  // records the command), as is a short secret that would match any name.
  CHECK(
      problems_of_text(
          R"({"id":"ab-1","image":"x","command":["login","hunter22"],"parameters":{"#pw":"hunter22","#pin":"1"}})")
          .empty());
}

TEST_CASE("sizes: long and odd inputs", "[runner][component]") {
  using runner::parse_size;
  CHECK(parse_size(" 1 g ") == 1024LL * 1024 * 1024);
  CHECK(parse_size("2KiB") == 2048);
  CHECK(parse_size("5b") == 5);
  CHECK_FALSE(parse_size("1.g").has_value());
  CHECK_FALSE(parse_size("1gx").has_value());
  CHECK_FALSE(parse_size(std::string(100000, '1')).has_value());
  CHECK_FALSE(parse_size("99999999999t").has_value());
}

// The component's environment (runner/keboola_env.hpp): docker-bundle's variables, the ones that
// apply only sometimes, and the component's own `env` last.
#include "runner/keboola_env.hpp"

#include "runner/errors.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace {
bool has(const std::vector<std::string>& env, const std::string& entry) {
  return std::find(env.begin(), env.end(), entry) != env.end();
}
bool has_name(const std::vector<std::string>& env, const std::string& name) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return e.rfind(name + "=", 0) == 0; });
}
}  // namespace

TEST_CASE("environment: Keboola's variables, always and when they apply", "[runner][env]") {
  runner::ComponentSpec spec = runner::parse_component(
      {{"id", "my.comp"}, {"image", "busybox"}, {"config_id", "c1"}, {"env", {{"OWN", "x"}}}});
  runner::KeboolaContext context;
  context.job_id = "job-1";
  auto env = runner::keboola_environment(spec, context);
  for (const char* entry :
       {"KBC_DATADIR=/data/", "KBC_RUNID=job-1", "KBC_PROJECTID=local", "KBC_CONFIGID=c1",
        "KBC_CONFIGVERSION=1", "KBC_COMPONENTID=my.comp", "KBC_STACKID=local",
        "KBC_BRANCHID=default", "KBC_STAGING_FILE_PROVIDER=local",
        "KBC_PROJECT_FEATURE_GATES=", "KBC_COMPONENT_RUN_MODE=run"})
    CHECK(has(env, entry));
  CHECK_FALSE(has_name(env, "KBC_CONFIGROWID"));
  CHECK_FALSE(has_name(env, "KBC_DATA_TYPE_SUPPORT"));
  CHECK(env.back() == "OWN=x");

  spec = runner::parse_component({{"id", "my.comp"},
                                  {"image", "busybox"},
                                  {"config_version", 12},
                                  {"data_type_support", "authoritative"}});
  context.row_id = "row-7";
  context.run_mode = "debug";
  context.feature_gates = {"queuev2", "new-native-types"};
  env = runner::keboola_environment(spec, context);
  CHECK(has(env, "KBC_CONFIGROWID=row-7"));
  CHECK(has(env, "KBC_CONFIGVERSION=12"));
  CHECK(has(env, "KBC_DATA_TYPE_SUPPORT=authoritative"));
  CHECK(has(env, "KBC_COMPONENT_RUN_MODE=debug"));
  CHECK(has(env, "KBC_PROJECT_FEATURE_GATES=queuev2,new-native-types"));
  CHECK(runner::is_run_mode("debug"));
  CHECK_FALSE(runner::is_run_mode("Run"));
}

TEST_CASE("environment: the new names are reserved, wrong values are config errors",
          "[runner][env]") {
  for (const char* name : {"KBC_CONFIGROWID", "KBC_STAGING_FILE_PROVIDER",
                           "KBC_PROJECT_FEATURE_GATES", "KBC_DATA_TYPE_SUPPORT"})
    CHECK_THROWS_AS(
        runner::parse_component({{"id", "a"}, {"image", "busybox"}, {"env", {{name, "x"}}}}),
        runner::ConfigError);
  CHECK_THROWS_WITH(
      runner::parse_component({{"id", "a"}, {"image", "busybox"}, {"config_version", 0}}),
      Catch::Contains("$.config_version"));
  CHECK_THROWS_WITH(
      runner::parse_component({{"id", "a"}, {"image", "busybox"}, {"data_type_support", "all"}}),
      Catch::Contains("$.data_type_support"));
}

TEST_CASE("environment: without config_id, KBC_CONFIGID is a stable hash of the configuration",
          "[runner][env]") {
  using nlohmann::json;
  auto id_of = [](const json& extra) {
    json doc = {{"id", "my.comp"}, {"image", "busybox"}};
    doc.update(extra);
    return runner::configuration_id(runner::parse_component(doc));
  };
  const std::string plain = id_of({{"parameters", {{"a", 1}, {"#pw", "one"}}}});
  CHECK(plain.size() == 40);
  CHECK(plain.find_first_not_of("0123456789abcdef") == std::string::npos);
  // The same configuration (key order aside) is the same id, run after run.
  CHECK(id_of({{"parameters", {{"#pw", "one"}, {"a", 1}}}}) == plain);
  // A parameter or the storage mapping changes it; a '#' value does not (it is left out).
  CHECK(id_of({{"parameters", {{"a", 2}, {"#pw", "one"}}}}) != plain);
  CHECK(id_of({{"parameters", {{"a", 1}, {"#pw", "one"}}},
               {"storage", {{"input", json::object()}}}}) != plain);
  CHECK(id_of({{"parameters", {{"a", 1}, {"#pw", "rotated"}}}}) == plain);
  // A given config_id is used as it is.
  CHECK(id_of({{"config_id", "c1"}, {"parameters", {{"a", 1}}}}) == "c1");
  // In the environment: the context's id (the job's main component) wins over the stage's.
  runner::KeboolaContext context;
  context.config_id = plain;
  const auto env = runner::keboola_environment(
      runner::parse_component({{"id", "proc"}, {"image", "busybox"}}), context);
  CHECK(has(env, "KBC_CONFIGID=" + plain));
}

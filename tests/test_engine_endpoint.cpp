// DOCKER_HOST / --docker-host parsing.
#include "docker/engine_client.hpp"
#include "docker/engine_endpoint.hpp"
#include "exporter_test_support.hpp"

#include <catch2/catch.hpp>

using runner::docker::EngineEndpoint;

TEST_CASE("unix and tcp hosts", "[docker][endpoint]") {
  auto ep = EngineEndpoint::parse("unix:///run/user/1000/docker.sock");
  CHECK(ep.unix_socket == "/run/user/1000/docker.sock");
  CHECK(ep.base_url == "http://localhost");
  ep = EngineEndpoint::parse("tcp://10.0.0.5:2375");
  CHECK(ep.unix_socket.empty());
  CHECK(ep.base_url == "http://10.0.0.5:2375");
  CHECK(EngineEndpoint::parse("/var/run/docker.sock").unix_socket == "/var/run/docker.sock");
  CHECK_THROWS_WITH(EngineEndpoint::parse("ssh://host"), Catch::Contains("expected unix://"));
  CHECK_THROWS_WITH(EngineEndpoint::parse("unix://relative"), Catch::Contains("absolute"));
}

TEST_CASE("the override wins over DOCKER_HOST", "[docker][endpoint]") {
  const char* before = std::getenv("DOCKER_HOST");
  const std::optional<std::string> original =
      before != nullptr ? std::optional<std::string>(before) : std::nullopt;
  {
    const runner_test::ScopedEnv env("DOCKER_HOST", "unix:///from/env.sock");
    CHECK(EngineEndpoint::from_environment(std::nullopt).unix_socket == "/from/env.sock");
    CHECK(EngineEndpoint::from_environment(std::string("unix:///flag.sock")).unix_socket ==
          "/flag.sock");
  }
  {
    const runner_test::ScopedEnv env("DOCKER_HOST", std::nullopt);
    CHECK(EngineEndpoint::from_environment(std::nullopt).unix_socket == "/var/run/docker.sock");
    CHECK(EngineEndpoint::from_environment(std::string("tcp://10.0.0.5:2375")).base_url ==
          "http://10.0.0.5:2375");
  }
  // Whatever the test process was given (an engine elsewhere, or none) is back for the tests
  // that run after this one in the same process.
  const char* after = std::getenv("DOCKER_HOST");
  CHECK((after != nullptr ? std::optional<std::string>(after) : std::nullopt) == original);
}

TEST_CASE("API versions compare numerically", "[docker][endpoint]") {
  using runner::docker::compare_api_versions;
  CHECK(compare_api_versions("1.41", "1.40") > 0);
  CHECK(compare_api_versions("1.9", "1.40") < 0);
  CHECK(compare_api_versions("1.40", "1.40") == 0);
  CHECK(compare_api_versions("2.0", "1.99") > 0);
  CHECK(runner::docker::daemon_message(R"({"message":"No such image: x"})") == "No such image: x");
  CHECK(runner::docker::daemon_message("plain text\n") == "plain text");
}

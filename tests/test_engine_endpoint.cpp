// DOCKER_HOST / --docker-host parsing.
#include "docker/engine_client.hpp"
#include "docker/engine_endpoint.hpp"
#include "exporter_test_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

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

TEST_CASE("tcp:// as the docker CLI reads it: default ports, TLS files that exist",
          "[docker][endpoint]") {
  std::optional<runner_test::ScopedEnv> tls(std::in_place, "DOCKER_TLS_VERIFY", std::nullopt);
  auto ep = EngineEndpoint::parse("tcp://build-host");
  CHECK(ep.base_url == "http://build-host:2375");
  CHECK(ep.display == "tcp://build-host:2375");
  CHECK_FALSE(ep.is_local());
  CHECK(EngineEndpoint::parse("tcp://[::1]:2380/").base_url == "http://[::1]:2380");
  CHECK(EngineEndpoint::parse("unix:///var/run/docker.sock").is_local());
  CHECK_THROWS_WITH(EngineEndpoint::parse("tcp://host:99999"),
                    Catch::Contains("not a number from 1 to 65535"));
  CHECK_THROWS_WITH(EngineEndpoint::parse("tcp://user@host:2376"),
                    Catch::Contains("expected tcp://HOST:PORT"));
  CHECK_THROWS_WITH(EngineEndpoint::parse("tcp://:2376"), Catch::Contains("no host name"));

  const std::string certs = "/tmp/runner-endpoint-certs-" + std::to_string(::getpid());
  std::filesystem::create_directories(certs);
  std::ofstream(certs + "/ca.pem") << "x";
  tls.emplace("DOCKER_TLS_VERIFY", "1");
  const runner_test::ScopedEnv cert_path("DOCKER_CERT_PATH", certs);
  ep = EngineEndpoint::parse("tcp://build-host");
  CHECK(ep.tls);
  CHECK(ep.base_url == "https://build-host:2376");
  CHECK(ep.ca_file == certs + "/ca.pem");
  CHECK(ep.cert_file.empty());  // absent files are not offered
  CHECK(ep.key_file.empty());
  std::filesystem::remove_all(certs);
}

TEST_CASE("an rlimit failure is explained, with Podman's fix on Podman", "[docker][endpoint]") {
  using runner::docker::EngineKind;
  using runner::docker::rlimit_failure_hint;
  const std::string msg =
      "crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied / runc "
      "create failed: error setting rlimit type 7: operation not permitted";
  CHECK_THAT(rlimit_failure_hint(msg, EngineKind::podman),
             Catch::Contains("default_ulimits") && Catch::Contains("containers.conf"));
  CHECK_THAT(rlimit_failure_hint(msg, EngineKind::docker), Catch::Contains("--default-ulimit"));
  CHECK(rlimit_failure_hint("No such image: x", EngineKind::podman).empty());
}

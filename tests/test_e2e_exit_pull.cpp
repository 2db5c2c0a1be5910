// End-to-end (issue 13): exit 137 without the engine's OOMKilled is "possibly out of memory", a
// user error; an image pull is retried with backoff (--pull-attempts) and a SIGINT during the
// retries ends the job at once as terminated, leaving no container. The registry is an address
// where nothing listens, so every pull fails fast.
#include "cli_process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>

using nlohmann::json;
using runner_test::CliProcess;
using runner_test::run_cli;
using runner_test::temp_file;

TEST_CASE("exit 137 without OOMKilled is a user error saying possibly out of memory",
          "[e2e][exit]") {
  // The shell is PID 1, which ignores SIGKILL from its own namespace: a child shell is killed.
  const std::string file = temp_file(json{{"id", "test.e2e-137"},
                                          {"image", "runner-busybox:latest"},
                                          {"command", {"sh", "-c", "sh -c 'kill -9 $$'; exit $?"}}}
                                         .dump());
  const auto r = run_cli({"run", file, "--store", "none"});
  CHECK(r.exit_code == 1);
  auto client = runner_test::engine_client();
  client.negotiate();
  if (!client.reports_oom_kills()) {
    // Podman 4 never reports OOMKilled: a SIGKILL runner did not send is taken for one there.
    CHECK_THAT(r.out, Catch::Contains("Component out of memory (exceeded 256m)"));
    return;
  }
  CHECK_THAT(r.out, Catch::Contains("killed (exit code 137) without the engine reporting an "
                                    "out-of-memory kill: possibly out of memory (limit 256m)"));
}

// On both engines. Podman's service tries an unreachable registry a few times itself before
// it answers (about 3 s a pull here), so the test waits for what runner says, not for a time.
TEST_CASE("pulls are retried with backoff and a SIGINT ends the retries at once", "[e2e][pull]") {
  const std::string image =
      "127.0.0.1:" + std::to_string(runner_test::unused_tcp_port()) + "/runner-test/none:1.0";
  const std::string file = temp_file(json{
      {"id", "test.e2e-pull"},
      {"image", image},
      {"pull_policy", "always"},
      {"command", {"true"}}}.dump());
  // Three attempts: two waits (0.5 s, 1 s) between them, each said in a warning.
  const auto three = run_cli({"run", file, "--store", "none", "--pull-attempts", "3"});
  CHECK(three.exit_code == 1);
  CHECK_THAT(three.out, Catch::Contains("(attempt 1 of 3; trying again in 0.5 s)"));
  CHECK_THAT(three.out, Catch::Contains("(attempt 2 of 3; trying again in 1.0 s)"));
  CHECK_THAT(three.out, !Catch::Contains("attempt 3 of 3"));
  // The default 20 attempts would take minutes: SIGINT ends them, in a wait or in a pull.
  CliProcess p({"run", file, "--store", "none"});
  REQUIRE(p.wait_for_output("(attempt 2 of 20; trying again in 1.0 s)", std::chrono::seconds(60)));
  const auto sent = std::chrono::steady_clock::now();
  p.signal(SIGINT);
  CHECK(p.wait(std::chrono::seconds(20)) == 130);
  CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds(5));
  CHECK_THAT(p.out(), Catch::Contains("(attempt 1 of 20; trying again in 0.5 s)"));
  CHECK_THAT(p.out(), Catch::Contains("terminated by SIGINT before it started"));
}

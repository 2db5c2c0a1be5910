// File handling by copy: which handling a job gets from the operator, the component and the
// engine's address (the copies themselves run in the e2e tests against real engines).
#include "runner/workspace_copy.hpp"

#include <catch2/catch.hpp>

using runner::FileHandling;
using runner::resolve_file_handling;
using runner::docker::EngineEndpoint;

TEST_CASE("auto mounts for a unix socket and copies for tcp, an explicit choice wins",
          "[runner][copy]") {
  const auto local = EngineEndpoint::parse("unix:///run/podman/podman.sock");
  const auto remote = EngineEndpoint::parse("tcp://build-host:2375");
  CHECK(resolve_file_handling(std::nullopt, FileHandling::automatic, local) == FileHandling::mount);
  CHECK(resolve_file_handling(std::nullopt, FileHandling::automatic, remote) == FileHandling::copy);
  CHECK(resolve_file_handling(FileHandling::automatic, FileHandling::automatic, remote) ==
        FileHandling::copy);
  // The component asks, the operator (worker or run flag) overrides.
  CHECK(resolve_file_handling(std::nullopt, FileHandling::copy, local) == FileHandling::copy);
  CHECK(resolve_file_handling(FileHandling::mount, FileHandling::copy, local) ==
        FileHandling::mount);
  CHECK(resolve_file_handling(FileHandling::copy, FileHandling::mount, local) ==
        FileHandling::copy);
  CHECK(resolve_file_handling(FileHandling::automatic, FileHandling::mount, remote) ==
        FileHandling::mount);
}

// The first command (scripts/setup.sh) installs and builds only what the example needs: the
// packages of `install-deps.sh setup` (no PostgreSQL, clang tools or Podman), the runner-busybox
// image, and the runner binary, not the 45-file test binary (scripts/test.sh does all of that).
// Checked on the real scripts and on the real build graph: what `ninja -t commands runner_cli`
// would run compiles nothing under tests/ or fuzz/ and links no test program.
#include "cli_process.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string command_output(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  REQUIRE(pipe);
  std::array<char, 4096> chunk{};
  while (std::fgets(chunk.data(), chunk.size(), pipe.get()) != nullptr) out += chunk.data();
  return out;
}

}  // namespace

TEST_CASE("setup.sh builds the runner binary only and test.sh builds everything", "[setup]") {
  const std::string setup = runner_test::read_file(RUNNER_SOURCE_DIR "/scripts/setup.sh");
  CHECK_THAT(setup, Catch::Contains("scripts/install-deps.sh setup\n"));
  CHECK_THAT(setup, Catch::Contains("scripts/build-images.sh runner-busybox\n"));
  CHECK_THAT(setup, Catch::Contains("scripts/build.sh runner_cli\n"));
  const std::string test = runner_test::read_file(RUNNER_SOURCE_DIR "/scripts/test.sh");
  CHECK_THAT(test, Catch::Contains("scripts/prepare.sh\n"));  // no target: everything
  const std::string prepare = runner_test::read_file(RUNNER_SOURCE_DIR "/scripts/prepare.sh");
  CHECK_THAT(prepare, Catch::Contains("scripts/install-deps.sh\n"));  // every package

  const std::string commands =
      command_output("ninja -C " RUNNER_BUILD_DIR " -t commands runner_cli 2>&1");
  REQUIRE_THAT(commands, Catch::Contains("runner_cli.dir/main.cpp.o"));
  std::istringstream lines(commands);
  std::size_t compiles = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" -c ") != std::string::npos) ++compiles;
    INFO(line.substr(0, 200));
    CHECK(line.find("/tests/") == std::string::npos);
    CHECK(line.find("/fuzz/") == std::string::npos);
    CHECK(line.find("runner_tests") == std::string::npos);
  }
  // About 90 translation units (the libraries and the CLI), not the ~160 of a full build.
  CHECK(compiles > 40);
  CHECK(compiles < 120);
}

TEST_CASE("setup.sh's packages are the build's and the engine's, test.sh's are all of them",
          "[setup]") {
  const auto list = [](const std::string& args) {
    std::set<std::string> names;
    std::istringstream lines(
        command_output("bash " RUNNER_SOURCE_DIR "/scripts/install-deps.sh " + args + " --list"));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) names.insert(line);
    return names;
  };
  const std::set<std::string> setup = list("setup");
  const std::set<std::string> all = list("");
  for (const char* needed : {"cmake", "g++", "libpq-dev", "docker.io", "busybox-static"})
    CHECK(setup.count(needed) == 1);
  for (const char* test_only : {"postgresql", "clang-tidy", "podman", "mmdebstrap", "hyperfine"}) {
    CHECK(setup.count(test_only) == 0);
    CHECK(all.count(test_only) == 1);
  }
  for (const auto& name : setup) CHECK(all.count(name) == 1);
}

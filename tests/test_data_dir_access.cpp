// data_dir_access.hpp and container_user.hpp on the real filesystem: which config.json a job
// uses with --data-dir (the user's file, or a config error when the component gives parameters
// too), stale outputs found and cleared, and DataDirAccess opening out/ to the container's user
// for the run and giving every output to the host user afterwards (chown: the suite runs as root).
#include "exporter_test_support.hpp"
#include "runner/component.hpp"
#include "runner/container_user.hpp"
#include "runner/data_dir_access.hpp"
#include "runner/errors.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using runner::resolve_container_user;
using runner::UserKind;

namespace {

struct Folder {
  fs::path path =
      fs::temp_directory_path() / ("runner-ddir-" + std::to_string(std::random_device{}()));
  Folder() { fs::create_directories(path); }
  ~Folder() { fs::remove_all(path); }
};

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

runner::ComponentSpec spec_of(const nlohmann::json& doc) {
  return runner::parse_component(doc);
}

}  // namespace

TEST_CASE("container user: component user first, then the image's (numbers, names, root)",
          "[runner][data-dir]") {
  CHECK(resolve_container_user("", std::string()).kind == UserKind::root);
  CHECK(resolve_container_user("", std::string("root")).kind == UserKind::root);
  CHECK(resolve_container_user("0:0", std::string("1000")).kind == UserKind::root);
  const auto image = resolve_container_user("", std::string("1000:1001"));
  CHECK(image.kind == UserKind::numeric);
  CHECK(image.uid == 1000);
  CHECK(image.gid == 1001);
  const auto alone = resolve_container_user("4321", std::string("app"));
  CHECK(alone.kind == UserKind::numeric);
  CHECK(alone.gid == 4321);
  CHECK(resolve_container_user("app", std::nullopt).kind == UserKind::named);
  CHECK(resolve_container_user("1000:staff", std::nullopt).kind == UserKind::named);
  CHECK(resolve_container_user("99999999999", std::nullopt).kind == UserKind::named);
  CHECK(resolve_container_user("", std::nullopt).kind == UserKind::unknown);
}

TEST_CASE("data dir: the user's config.json is used when the component gives no parameters",
          "[runner][data-dir]") {
  Folder dir;
  const nlohmann::json generated = {{"parameters", nlohmann::json::object()}};
  const auto bare = spec_of({{"id", "a"}, {"image", "busybox"}});
  // No file: runner's own configuration.
  auto chosen = runner::choose_config(bare, generated, dir.path);
  REQUIRE(chosen.generated);
  CHECK(*chosen.generated == generated);
  std::ofstream(dir.path / "config.json") << R"({"parameters": {"#token": "s3cr3t", "n": 1}})";
  chosen = runner::choose_config(bare, generated, dir.path);
  CHECK_FALSE(chosen.generated);
  CHECK(chosen.users_file == fs::absolute(dir.path) / "config.json");
  CHECK(chosen.secrets == std::vector<std::string>{"s3cr3t"});
  // Both: a config error naming the field, the file untouched.
  const auto with =
      spec_of({{"id", "a"}, {"image", "busybox"}, {"parameters", nlohmann::json::object()}});
  CHECK(with.parameters_given);
  try {
    (void)runner::choose_config(with, generated, dir.path);
    FAIL("expected a ConfigError");
  } catch (const runner::ConfigError& e) {
    CHECK(e.exit_code() == 65);
    CHECK_THAT(e.problems().at(0), Catch::StartsWith("$.parameters: given, but --data-dir"));
  }
  // A broken file names itself.
  std::ofstream(dir.path / "config.json", std::ios::trunc) << "{\"parameters\": ";
  try {
    (void)runner::choose_config(bare, generated, dir.path);
    FAIL("expected a ConfigError");
  } catch (const runner::ConfigError& e) {
    CHECK_THAT(e.problems().at(0), Catch::Contains("config.json: "));
  }
  // No --data-dir: always runner's.
  CHECK(runner::choose_config(with, generated, std::nullopt).generated);
}

TEST_CASE("data dir: outputs of an earlier run are found, and cleared on request",
          "[runner][data-dir]") {
  Folder dir;
  CHECK(runner::existing_outputs(dir.path).files == 0);
  fs::create_directories(dir.path / "out/tables");
  CHECK(runner::existing_outputs(dir.path).files == 0);  // empty folders are not outputs
  std::ofstream(dir.path / "out/tables/old.csv") << "a\n";
  std::ofstream(dir.path / "out/state.json") << "{}";
  const auto found = runner::existing_outputs(dir.path);
  CHECK(found.files == 2);
  CHECK_THAT(found.example, Catch::StartsWith("out/"));
  CHECK(runner::clear_outputs(dir.path) == 3);  // tables/, its file, state.json
  CHECK(fs::is_directory(dir.path / "out"));
  CHECK(runner::existing_outputs(dir.path).files == 0);
}

TEST_CASE("data dir: out/ is the container user's for the run, the outputs the host user's after",
          "[runner][data-dir]") {
  REQUIRE(::geteuid() == 0);
  Folder dir;
  for (const char* sub : {"in/tables", "out/tables", "out/files"})
    fs::create_directories(dir.path / sub);
  REQUIRE(::chown(dir.path.c_str(), 2222, 2223) == 0);  // the folder's owner: the host user
  ::chmod((dir.path / "out").c_str(), 0755);
  const runner_test::ScopedEnv no_sudo("SUDO_UID", std::nullopt);
  {
    runner::DataDirAccess access(dir.path, resolve_container_user("1000:1000", std::nullopt));
    CHECK(access.warnings().empty());  // 0755 folders: readable by anyone
    CHECK(stat_of(dir.path / "out/tables").st_uid == 1000);
    // What the container writes as uid 1000.
    std::ofstream(dir.path / "out/tables/new.csv") << "x\n";
    REQUIRE(::chown((dir.path / "out/tables/new.csv").c_str(), 1000, 1000) == 0);
    CHECK(access.give_back().empty());
  }
  CHECK(stat_of(dir.path / "out/tables/new.csv").st_uid == 2222);
  CHECK(stat_of(dir.path / "out/tables/new.csv").st_gid == 2223);
  CHECK(stat_of(dir.path / "out").st_uid == 2222);
  CHECK((stat_of(dir.path / "out").st_mode & 07777) == 0755);
  {
    // A named user: out/ open for the run, modes back afterwards; a private in/ is reported.
    ::chmod((dir.path / "in").c_str(), 0700);
    runner::DataDirAccess access(dir.path, resolve_container_user("app", std::nullopt));
    CHECK((stat_of(dir.path / "out/files").st_mode & 07777) == 0777);
    REQUIRE(access.warnings().size() == 1);
    CHECK_THAT(access.warnings()[0], Catch::Contains("cannot read " + (dir.path / "in").string()));
  }
  CHECK((stat_of(dir.path / "out/files").st_mode & 07777) == 0755);
}

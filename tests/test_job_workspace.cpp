// JobWorkspace (runner/job_workspace.hpp): the folders a job's container sees at /data and
// /tmp, on the real filesystem in a TMPDIR of the test's own: Keboola's layout, the private
// modes, the owner file `runner gc` reads, what is removed after the run (with and without
// --keep-data and --data-dir), failures cleaning up after themselves, and the folders given to a
// numeric or a named container user.
#include "exporter_test_support.hpp"
#include "runner/errors.hpp"
#include "runner/job_workspace.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using runner::JobWorkspace;

namespace {

constexpr const char* kJob = "01a2b3c4-d5e6-7f00-8000-123456789abc";

std::string unique(const std::string& prefix) {
  std::random_device rd;
  return prefix + std::to_string(rd() % 1000000000);
}

// A TMPDIR of the test's own for the length of the scope.
struct PrivateTmp {
  fs::path path = fs::temp_directory_path() / unique("runner-ws-unit-");
  std::optional<runner_test::ScopedEnv> env;
  PrivateTmp() {
    fs::create_directories(path);
    env.emplace("TMPDIR", path.string());
  }
  ~PrivateTmp() {
    env.reset();
    fs::remove_all(path);
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path());
    return out;
  }
};

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::pair<uid_t, gid_t> owner_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return {st.st_uid, st.st_gid};
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const nlohmann::json kConfig = {{"parameters", {{"#password", "plain"}}}, {"action", "run"}};
const char* kLayout[] = {"in/tables", "in/files", "in/user", "out/tables", "out/files"};

// The container's user as the component gives it (the image's own USER being root).
runner::ContainerUser user(const std::string& text) {
  return runner::resolve_container_user(text, std::string());
}

}  // namespace

TEST_CASE("workspace: a private folder with Keboola's layout, removed after the run",
          "[runner][workspace]") {
  PrivateTmp tmp;
  fs::path root;
  {
    JobWorkspace ws(kJob, std::nullopt, false, kConfig, user(""));
    root = ws.root();
    CHECK(root.parent_path() == tmp.path);
    CHECK(root.filename().string().rfind("runner-01a2b3c4-d5e6-", 0) == 0);
    CHECK(mode_of(root) == 0700);
    CHECK(ws.data_dir() == root / "data");
    CHECK(ws.tmp_dir() == root / "tmp");
    for (const char* sub : kLayout) CHECK(fs::is_directory(ws.data_dir() / sub));
    CHECK(fs::is_directory(ws.tmp_dir()));
    CHECK(read(ws.data_dir() / "config.json") == kConfig.dump(2) + "\n");
    CHECK(mode_of(ws.data_dir() / "config.json") == 0600);
    // Whose folder it is, for `runner gc` should this process die without cleaning up.
    CHECK(read(root / runner::kWorkspaceOwnerFile) == std::to_string(::getpid()) + "\n");
    std::ofstream(ws.tmp_dir() / "scratch") << "x";
    std::ofstream(ws.data_dir() / "out/files/result.csv") << "a,b";
  }
  CHECK_FALSE(fs::exists(root));
  CHECK(tmp.entries().empty());
}

TEST_CASE("workspace: --keep-data keeps everything but the owner file", "[runner][workspace]") {
  PrivateTmp tmp;
  fs::path root;
  {
    JobWorkspace ws(kJob, std::nullopt, true, kConfig, user(""));
    root = ws.root();
  }
  REQUIRE(fs::exists(root));
  CHECK(read(root / "data/config.json") == kConfig.dump(2) + "\n");
  CHECK(fs::is_directory(root / "tmp"));
  CHECK_FALSE(fs::exists(root / runner::kWorkspaceOwnerFile));  // not an orphan for gc
}

TEST_CASE("workspace: --data-dir is /data, and only the generated config.json and tmp/ go",
          "[runner][workspace]") {
  PrivateTmp tmp;
  const fs::path data = tmp.path / "my-data";
  fs::create_directories(data / "in/tables");
  std::ofstream(data / "in/tables/orders.csv") << "id\n1\n";
  {
    JobWorkspace ws(kJob, data, false, kConfig, user(""));
    CHECK(ws.data_dir() == fs::absolute(data));
    CHECK(ws.tmp_dir() == ws.root() / "tmp");
    CHECK_FALSE(fs::exists(ws.root() / "data"));
    for (const char* sub : kLayout) CHECK(fs::is_directory(data / sub));
    CHECK(mode_of(data / "config.json") == 0600);
    std::ofstream(data / "out/files/result.csv") << "a,b";
  }
  CHECK_FALSE(fs::exists(data / "config.json"));
  CHECK(read(data / "in/tables/orders.csv") == "id\n1\n");
  CHECK(read(data / "out/files/result.csv") == "a,b");
  CHECK(tmp.entries() == std::vector<fs::path>{data});  // the private folder (tmp/) is gone
  {
    // A relative --data-dir, kept.
    const fs::path cwd = fs::current_path();
    fs::current_path(tmp.path);
    try {
      JobWorkspace ws(kJob, fs::path("my-data"), true, kConfig, user(""));
      CHECK(ws.data_dir() == tmp.path / "my-data");
    } catch (...) {
      fs::current_path(cwd);
      throw;
    }
    fs::current_path(cwd);
  }
  CHECK(fs::exists(data / "config.json"));
}

TEST_CASE("workspace: a --data-dir that is not a folder fails and leaves nothing",
          "[runner][workspace]") {
  PrivateTmp tmp;
  std::ofstream(tmp.path / "a-file") << "x";
  CHECK_THROWS_AS(JobWorkspace(kJob, tmp.path / "a-file", false, kConfig, user("")),
                  runner::UsageError);
  CHECK_THROWS_AS(JobWorkspace(kJob, tmp.path / "missing", false, kConfig, user("")),
                  runner::UsageError);
  CHECK(tmp.entries() == std::vector<fs::path>{tmp.path / "a-file"});
  // A TMPDIR that does not exist: runner's own failure (exit 70), nothing made.
  const runner_test::ScopedEnv gone("TMPDIR", (tmp.path / "no-such-folder").string());
  CHECK_THROWS_AS(JobWorkspace(kJob, std::nullopt, false, kConfig, user("")),
                  runner::InternalError);
}

TEST_CASE("workspace: a numeric user gets the folders it writes to", "[runner][workspace]") {
  INFO("chown needs root: the suite runs as root (README)");
  REQUIRE(::geteuid() == 0);
  PrivateTmp tmp;
  {
    JobWorkspace ws(kJob, std::nullopt, false, kConfig, user("1234:5678"));
    const std::pair<uid_t, gid_t> user{1234, 5678};
    CHECK(owner_of(ws.data_dir()) == user);
    CHECK(owner_of(ws.data_dir() / "config.json") == user);
    CHECK(owner_of(ws.data_dir() / "out/files") == user);
    CHECK(owner_of(ws.tmp_dir()) == user);
    CHECK(owner_of(ws.root()) == std::pair<uid_t, gid_t>{0, 0});  // the root stays runner's
    CHECK(mode_of(ws.root()) == 0700);
  }
  {
    // A uid alone: the group is the same number.
    JobWorkspace ws(kJob, std::nullopt, false, kConfig, user("4321"));
    CHECK(owner_of(ws.data_dir()) == std::pair<uid_t, gid_t>{4321, 4321});
  }
  {
    // With --data-dir, the user's own folder keeps its owner; only config.json is given.
    const fs::path data = tmp.path / "mine";
    fs::create_directories(data);
    JobWorkspace ws(kJob, data, false, kConfig, user("1234:5678"));
    CHECK(owner_of(data) == std::pair<uid_t, gid_t>{0, 0});
    CHECK(owner_of(data / "config.json") == std::pair<uid_t, gid_t>{1234, 5678});
    CHECK(owner_of(ws.tmp_dir()) == std::pair<uid_t, gid_t>{1234, 5678});
  }
}

TEST_CASE("workspace: a named user gets folders open inside the private root",
          "[runner][workspace]") {
  PrivateTmp tmp;
  JobWorkspace ws(kJob, std::nullopt, false, kConfig, user("nobody"));
  CHECK(mode_of(ws.root()) == 0700);  // closed to everyone else on the host
  CHECK(mode_of(ws.tmp_dir()) == 01777);
  CHECK(mode_of(ws.data_dir()) == 0777);
  CHECK(mode_of(ws.data_dir() / "out/files") == 0777);
  CHECK(mode_of(ws.data_dir() / "config.json") == 0644);
}

TEST_CASE("workspace: the image's USER and a user not known yet get what they need",
          "[runner][workspace]") {
  REQUIRE(::geteuid() == 0);
  PrivateTmp tmp;
  {
    // An image with USER 1000:1000 and no `user` in the component: chowned to that uid.
    JobWorkspace ws(kJob, std::nullopt, false, kConfig,
                    runner::resolve_container_user("", std::string("1000:1000")));
    CHECK(owner_of(ws.data_dir() / "out/tables") == std::pair<uid_t, gid_t>{1000, 1000});
    CHECK(owner_of(ws.tmp_dir()) == std::pair<uid_t, gid_t>{1000, 1000});
    CHECK(mode_of(ws.root()) == 0700);
  }
  {
    // An image not pulled yet: its user is unknown, so the folders are opened below the root.
    JobWorkspace ws(kJob, std::nullopt, false, kConfig,
                    runner::resolve_container_user("", std::nullopt));
    CHECK(mode_of(ws.root()) == 0700);
    CHECK(mode_of(ws.data_dir() / "out/files") == 0777);
    CHECK(mode_of(ws.tmp_dir()) == 01777);
  }
}

TEST_CASE("workspace: the stages' users make one user the folders are made for",
          "[runner][workspace][user]") {
  using runner::UserKind;
  // Root stages need nothing; stages that agree share their user.
  CHECK(runner::shared_user({user("root"), user("0")}).root());
  CHECK(runner::shared_user({}).root());
  const auto one = runner::shared_user({user("1000"), user("root"), user("1000:1000")});
  CHECK(one.kind == UserKind::numeric);
  CHECK(one.uid == 1000);
  CHECK(runner::shared_user({user("app"), user("app")}).describe() == "user \"app\"");
  // Users that differ (a uid, another gid, a name) are `several`, named in messages.
  const auto mixed = runner::shared_user({user("1000"), user("1000:50"), user("app"), user("0")});
  CHECK(mixed.kind == UserKind::several);
  CHECK(mixed.describe() == "users uid 1000, uid 1000 (gid 50), user \"app\"");
  // For them the folders are opened below the private root, as for a name.
  PrivateTmp tmp;
  JobWorkspace ws(kJob, std::nullopt, false, kConfig, mixed);
  CHECK(mode_of(ws.root()) == 0700);
  CHECK(mode_of(ws.data_dir() / "out/tables") == 0777);
  CHECK(mode_of(ws.tmp_dir()) == 01777);
}

TEST_CASE("workspace: a user's own config.json in --data-dir is neither written nor removed",
          "[runner][workspace]") {
  PrivateTmp tmp;
  const fs::path data = tmp.path / "mine";
  fs::create_directories(data);
  std::ofstream(data / "config.json") << R"({"parameters": {"hand": "written"}})";
  {
    JobWorkspace ws(kJob, data, false, std::nullopt, user("1234"));
    CHECK(read(data / "config.json") == R"({"parameters": {"hand": "written"}})");
  }
  CHECK(read(data / "config.json") == R"({"parameters": {"hand": "written"}})");
  // A private folder always needs a configuration.
  CHECK_THROWS_AS(JobWorkspace(kJob, std::nullopt, false, std::nullopt, user("")),
                  runner::InternalError);
}

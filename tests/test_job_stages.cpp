// JobStages (runner/job_stages.hpp): the plan of a job's container runs (rows, disabled rows,
// --row, a row's own processors, sync actions), the move of outputs to inputs between two
// stages, each stage's config.json, and the rows' result records. No Docker: folders only.
#include "runner/job_stages.hpp"

#include "runner/errors.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

using nlohmann::json;
using runner::StageKind;

namespace {

runner::ComponentSpec spec_of(const json& extra) {
  json doc = {{"id", "my.comp"}, {"image", "runner-busybox:latest"}};
  doc.update(extra);
  return runner::parse_component(doc);
}

json processor(const std::string& id) {
  return {{"id", id}, {"image", "runner-busybox:latest"}};
}

std::vector<std::string> names(const runner::ChainRun& run) {
  std::vector<std::string> out;
  for (const auto& stage : run.stages) out.push_back(stage.name() + ":" + stage.spec->id);
  return out;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("job-stages-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a plain component is one untagged run", "[runner][stages]") {
  const auto spec = spec_of(json::object());
  const auto plan = runner::plan_job(spec, std::nullopt);
  REQUIRE(plan.runs.size() == 1);
  CHECK_FALSE(plan.tagged);
  CHECK(plan.runs[0].row == nullptr);
  CHECK(names(plan.runs[0]) == std::vector<std::string>{"main:my.comp"});
}

TEST_CASE("processors run around the main component, rows in order", "[runner][stages]") {
  const auto spec = spec_of(
      {{"parameters", {{"a", 1}, {"b", {{"c", 2}}}}},
       {"processors",
        {{"before", {processor("p.b1")}}, {"after", {processor("p.a1"), processor("p.a2")}}}},
       {"rows",
        {{{"id", "r1"}, {"parameters", {{"b", {{"d", 3}}}}}},
         {{"id", "r2"}, {"is_disabled", true}},
         {{"id", "r3"}, {"processors", {{"after", json::array()}}}}}}});
  const auto plan = runner::plan_job(spec, std::nullopt);
  CHECK(plan.tagged);
  REQUIRE(plan.runs.size() == 2);
  CHECK(plan.runs[0].row->id == "r1");
  CHECK(plan.runs[0].parameters == json({{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}}));
  CHECK(names(plan.runs[0]) ==
        std::vector<std::string>{"before-1:p.b1", "main:my.comp", "after-1:p.a1", "after-2:p.a2"});
  CHECK(plan.runs[1].row->id == "r3");  // its own (empty) after list replaces the config's
  CHECK(names(plan.runs[1]) == std::vector<std::string>{"before-1:p.b1", "main:my.comp"});
  REQUIRE(plan.disabled.size() == 1);
  CHECK(plan.disabled[0]->id == "r2");

  const auto only = runner::plan_job(spec, std::string("r2"));  // disabled, but named
  REQUIRE(only.runs.size() == 1);
  CHECK(only.runs[0].row->id == "r2");
  CHECK_THROWS_AS(runner::plan_job(spec, std::string("r9")), runner::UsageError);
  CHECK_THROWS_AS(runner::plan_job(spec_of(json::object()), std::string("r1")), runner::UsageError);
}

TEST_CASE("a sync action runs the main component alone", "[runner][stages][action]") {
  const auto spec = spec_of({{"action", "testConnection"},
                             {"processors", {{"after", {processor("p.a1")}}}},
                             {"rows", {{{"id", "r1"}}}}});
  const auto plan = runner::plan_job(spec, std::nullopt);
  REQUIRE(plan.runs.size() == 1);
  CHECK(plan.runs[0].row == nullptr);
  CHECK(names(plan.runs[0]) == std::vector<std::string>{"main:my.comp"});
}

TEST_CASE("each stage's config.json has its own parameters", "[runner][stages]") {
  const auto spec = spec_of({{"parameters", {{"a", 1}}},
                             {"processors", {{"after", {processor("p.a1")}}}},
                             {"rows", {{{"id", "r1"}, {"parameters", {{"b", 2}}}}}}});
  const auto plan = runner::plan_job(spec, std::nullopt);
  const auto& run = plan.runs.at(0);
  CHECK(runner::stage_config(run.stages[0], run)["parameters"] == json({{"a", 1}, {"b", 2}}));
  CHECK(runner::stage_config(run.stages[1], run)["parameters"] == json::object());
  CHECK(runner::stage_config(run.stages[1], run)["action"] == "run");
}

TEST_CASE("between two stages outputs become inputs and out/ starts empty", "[runner][stages]") {
  TempDir dir;
  const auto data = dir.path;
  write(data / "in/tables/old.csv", "old");
  write(data / "in/files/old.bin", "old");
  write(data / "in/user/keep.txt", "user");
  write(data / "out/tables/new.csv", "new");
  write(data / "out/tables/sub/deep.csv", "deep");
  std::filesystem::create_directories(data / "out/files");  // empty
  write(data / "out/state.json", "{}");
  ::chmod((data / "out/tables").c_str(), 0777);
  runner::move_output_to_input(data);
  CHECK(read(data / "in/tables/new.csv") == "new");
  CHECK(read(data / "in/tables/sub/deep.csv") == "deep");
  CHECK_FALSE(std::filesystem::exists(data / "in/tables/old.csv"));
  CHECK_FALSE(std::filesystem::exists(data / "in/files/old.bin"));
  CHECK(std::filesystem::is_directory(data / "in/files"));
  CHECK(read(data / "in/user/keep.txt") == "user");  // only tables and files move
  CHECK(std::filesystem::is_empty(data / "out/tables"));
  CHECK(std::filesystem::is_empty(data / "out/files"));
  CHECK(read(data / "out/state.json") == "{}");
  struct stat info {};
  REQUIRE(::stat((data / "out/tables").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0777);  // the next stage may write as the previous one did

  // A stage that removed out/files: the next gets an empty in/files, and out/files again.
  std::filesystem::remove_all(data / "out/files");
  runner::move_output_to_input(data);
  CHECK(std::filesystem::is_empty(data / "in/files"));
  CHECK(std::filesystem::is_directory(data / "out/files"));
}

TEST_CASE("a stage's config.json replaces the previous one, private", "[runner][stages]") {
  TempDir dir;
  write(dir.path / "config.json", "{\"old\": true}");
  runner::write_stage_config(dir.path, {{"parameters", {{"x", 1}}}});
  CHECK(json::parse(read(dir.path / "config.json")) == json({{"parameters", {{"x", 1}}}}));
  struct stat info {};
  REQUIRE(::stat((dir.path / "config.json").c_str(), &info) == 0);
  CHECK((info.st_mode & 0077) == 0);
}

TEST_CASE("copy_folder copies trees and links as links", "[runner][stages]") {
  TempDir dir;
  write(dir.path / "from/a/b.txt", "b");
  std::filesystem::create_symlink("/etc/passwd", dir.path / "from/link");
  write(dir.path / "to/a/b.txt", "old");
  runner::copy_folder(dir.path / "from", dir.path / "to");
  CHECK(read(dir.path / "to/a/b.txt") == "b");
  CHECK(std::filesystem::is_symlink(dir.path / "to/link"));
  runner::copy_folder(dir.path / "missing", dir.path / "made");  // nothing to copy
  CHECK(std::filesystem::is_directory(dir.path / "made"));
}

TEST_CASE("rows' results say how each ended", "[runner][stages][rows]") {
  CHECK(runner::row_result("r1", "success", 0, "ok") ==
        json({{"id", "r1"}, {"status", "success"}, {"exit_code", 0}, {"message", "ok"}}));
  CHECK(runner::row_result("r2", "disabled", 0, "") ==
        json({{"id", "r2"}, {"status", "disabled"}}));
  CHECK(runner::row_result("r3", "not_run", 0, "") == json({{"id", "r3"}, {"status", "not_run"}}));
}

// The SQLite store URL forms docs/store.md lists: sqlite:PATH (relative to the working folder),
// sqlite:///abs/path and sqlite://rel/path, missing folders made with mode 0700, and URLs that
// name no file. Real files in a folder of the test's own.
#include "store/store.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <random>

namespace fs = std::filesystem;

namespace {

// Runs `body` with the working folder set to `dir`, and puts the old one back.
template <typename F>
void in_folder(const fs::path& dir, F body) {
  const fs::path before = fs::current_path();
  fs::current_path(dir);
  try {
    body();
  } catch (...) {
    fs::current_path(before);
    throw;
  }
  fs::current_path(before);
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("sqlite store URLs: absolute and relative paths in every documented form",
          "[store][sqlite][url]") {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("runner-store-url-" + std::to_string(rd()));
  fs::create_directories(dir);
  {
    // sqlite:///abs/path: the folders that are missing are made, private.
    const fs::path file = dir / "abs" / "deeper" / "runner.db";
    auto store = runner::store::open_store("sqlite://" + file.string());
    CHECK(fs::is_regular_file(file));
    CHECK(mode_of(dir / "abs") == 0700);
    CHECK(mode_of(dir / "abs" / "deeper") == 0700);
    CHECK(store->describe() == "sqlite:" + file.string());
    CHECK(store->list_jobs({}).empty());
  }
  {
    // sqlite:/abs/path
    const fs::path file = dir / "plain.db";
    runner::store::open_store("sqlite:" + file.string());
    CHECK(fs::is_regular_file(file));
  }
  in_folder(dir, [&] {
    // sqlite://rel/path and sqlite:rel/path are relative to the working folder.
    runner::store::open_store("sqlite://rel/one.db");
    runner::store::open_store("sqlite:rel/two.db");
    runner::store::open_store("sqlite:three.db");
  });
  CHECK(fs::is_regular_file(dir / "rel" / "one.db"));
  CHECK(fs::is_regular_file(dir / "rel" / "two.db"));
  CHECK(fs::is_regular_file(dir / "three.db"));
  // The same file by two spellings is the same store.
  {
    auto a = runner::store::open_store("sqlite://" + (dir / "same.db").string());
    runner::store::JobRecord job;
    job.id = "01a2b3c4-0000-7000-8000-000000000001";
    job.component_id = "test.url";
    job.status = std::string(runner::store::kStatusWaiting);
    job.created_at = runner::logging::now_utc();
    a->enqueue(job);
    auto b = runner::store::open_store("sqlite:" + (dir / "same.db").string());
    CHECK(b->find_job(job.id).has_value());
  }
  for (const char* empty : {"sqlite:", "sqlite://"}) {
    INFO(empty);
    CHECK_THROWS_WITH(runner::store::open_store(empty), Catch::Contains("names no file"));
  }
  fs::remove_all(dir);
}

// The command line as people type it, against the real `runner` binary: a mistyped command or
// option is named with the nearest known one (exit 64, as git and cargo do), the three ways of
// asking the version agree, and a job id prefix that is too short or ambiguous says so with the
// jobs it matches (exit 64). None of these needs an engine: nothing runs.
#include "cli_process.hpp"

#include "store/store.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

using runner_test::run_cli;
using runner_test::temp_file;

namespace {

std::string component_file() {
  return temp_file(R"({"id":"test.usage","image":"runner-busybox:latest","command":["true"]})");
}

struct TempStore {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("runner-usage-" + std::to_string(std::random_device{}() % 1000000));
  std::string url = "sqlite:" + (dir / "runner.db").string();
  TempStore() { std::filesystem::create_directories(dir); }
  ~TempStore() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("an unknown command is named with the nearest one, exit 64", "[cli][usage]") {
  const auto r = run_cli({"runn", component_file()});
  CHECK(r.exit_code == 64);
  CHECK_THAT(r.err,
             Catch::Contains("'runn' is not a command") && Catch::Contains("did you mean 'run'?"));
  CHECK_THAT(r.err, !Catch::Contains("A subcommand is required"));

  const auto far = run_cli({"deploy"});
  CHECK(far.exit_code == 64);
  CHECK_THAT(far.err,
             Catch::Contains("'deploy' is not a command") && !Catch::Contains("did you mean"));

  const auto none = run_cli({});
  CHECK(none.exit_code == 64);
  CHECK_THAT(none.err, Catch::Contains("a command is required") && Catch::Contains("run"));
}

TEST_CASE("an unknown option is named with the nearest one of its command, exit 64",
          "[cli][usage]") {
  const auto r = run_cli({"run", "--dat-dir", "x", component_file()});
  CHECK(r.exit_code == 64);
  CHECK_THAT(r.err, Catch::Contains("runner run: unknown option '--dat-dir'") &&
                        Catch::Contains("did you mean '--data-dir'?"));
  CHECK_THAT(r.err, !Catch::Contains("were not expected"));

  const auto with_value = run_cli({"jobs", "--limt=3"});
  CHECK(with_value.exit_code == 64);
  CHECK_THAT(with_value.err, Catch::Contains("runner jobs: unknown option '--limt'") &&
                                 Catch::Contains("'--limit'"));

  // Known options, values that look like options, clusters of flags and "--" pass through to
  // the parser (which then finds nothing wrong here, or a different problem).
  const auto cluster = run_cli({"run", "-vq", "--store", "none", "--docker-host",
                                "unix:///nonexistent/docker.sock", component_file()});
  CHECK_THAT(cluster.err, !Catch::Contains("unknown option"));
  const auto negative = run_cli({"submit", "--priority", "-5", "--store", "none", "--", "x"});
  CHECK_THAT(negative.err, !Catch::Contains("unknown option"));
}

TEST_CASE("runner --version, -V and runner version print the same line", "[cli][usage]") {
  const auto long_flag = run_cli({"--version"});
  const auto short_flag = run_cli({"-V"});
  const auto command = run_cli({"version"});
  CHECK(long_flag.exit_code == 0);
  CHECK(short_flag.exit_code == 0);
  CHECK(command.exit_code == 0);
  CHECK_THAT(command.out, Catch::StartsWith("runner ") && Catch::EndsWith("\n"));
  CHECK(long_flag.out == command.out);
  CHECK(short_flag.out == command.out);
}

TEST_CASE("a job id prefix that is too short or ambiguous lists what it matches, exit 64",
          "[cli][usage][store]") {
  TempStore store;
  {
    auto db = runner::store::open_store(store.url);
    for (const char* id :
         {"0190ffff-0000-7000-8000-000000000001", "0190ffff-0000-7000-8000-000000000002"}) {
      runner::store::JobRecord job;
      job.id = id;
      job.component_id = "test.usage";
      job.namespace_name = "default";
      job.status = "success";
      job.created_at = runner::logging::now_utc();
      db->insert_job(job);
    }
  }
  for (const char* command : {"logs", "show", "cancel"}) {
    INFO(command);
    const auto ambiguous = run_cli({command, "0190ffff-0000", "--store", store.url});
    CHECK(ambiguous.exit_code == 64);
    CHECK_THAT(ambiguous.err, Catch::Contains("ambiguous") &&
                                  Catch::Contains("0190ffff-0000-7000-8000-000000000001") &&
                                  Catch::Contains("0190ffff-0000-7000-8000-000000000002"));
    const auto short_prefix = run_cli({command, "0190f", "--store", store.url});
    CHECK(short_prefix.exit_code == 64);
    CHECK_THAT(short_prefix.err, Catch::Contains("too short") && Catch::Contains("at least 8") &&
                                     Catch::Contains("0190ffff-0000-7000-8000-000000000001"));
    // A short prefix that matches nothing is simply not there.
    CHECK(run_cli({command, "0190e", "--store", store.url}).exit_code == 66);
  }
  const auto exact =
      run_cli({"show", "0190ffff-0000-7000-8000-000000000002", "--store", store.url});
  CHECK(exact.exit_code == 0);
}

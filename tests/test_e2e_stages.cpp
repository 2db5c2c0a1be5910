// End-to-end: a job of several container runs (runner/job_stages.hpp) through the real `runner`
// binary against the real engine and the locally built runner-busybox image: the processor
// chain of examples/processors with its final output checked byte for byte, every event tagged
// with its stage, a failing processor naming itself, the timeout covering the whole chain, and
// configuration rows (merged parameters, KBC_CONFIGROWID, a disabled and a failing row, --row).
#include "cli_process.hpp"
#include "fixtures.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using nlohmann::json;
using runner_test::run_cli;
using runner_test::temp_file;
using runner_test::TempDir;
using runner_test::unique_name;

namespace {

constexpr const char* kImage = "runner-busybox:latest";

struct JobRun {
  int exit_code;
  std::string err;
  std::string terminal;
  std::vector<json> events;
  json result;
};

JobRun run_job(const std::string& file, std::vector<std::string> extra = {}) {
  const std::string events = temp_file("", ".jsonl");
  std::vector<std::string> args = {"run", file, "--store", "none", "--events", events};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_cli(args);
  JobRun run{r.exit_code, r.err, r.out, runner_test::read_json_lines(events), json()};
  std::filesystem::remove(events);
  if (!run.events.empty() && run.events.back()["kind"] == "result") run.result = run.events.back();
  if (run.result.is_object())
    CHECK(runner_test::engine_client()
              .list_containers({"io.runner.job-id=" + run.result["job_id"].get<std::string>()})
              .empty());
  return run;
}

// The stdout events of one stage (and row), in order.
std::vector<std::string> stdout_of(const std::vector<json>& events, const std::string& stage,
                                   const std::string& row = "") {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e["kind"] != "event" || e["source"] != "stdout" || !e.contains("fields")) continue;
    if (e["fields"].value("stage", "") != stage) continue;
    if (!row.empty() && e["fields"].value("row", "") != row) continue;
    out.push_back(e["message"]);
  }
  return out;
}

std::string gunzip(const std::filesystem::path& file) {
  std::string out;
  FILE* pipe = ::popen(("gzip -dc '" + file.string() + "'").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  CHECK(::pclose(pipe) == 0);
  return out;
}

json stage(const std::string& id, const std::string& script, const json& extra = json::object()) {
  json doc = {{"id", id}, {"image", kImage}, {"command", {"sh", "-c", script}}};
  doc.update(extra);
  return doc;
}

}  // namespace

TEST_CASE("the example processor chain renames and gzips the component's CSV, byte for byte",
          "[e2e][processors]") {
  TempDir data;
  std::filesystem::create_directories(data.path / "in" / "tables");
  {
    std::ofstream mine(data.path / "in" / "tables" / "mine.csv");
    mine << "kept\n";
  }
  const auto r = run_job(std::string(RUNNER_SOURCE_DIR) + "/examples/processors/component.json",
                         {"--data-dir", data.path.string()});
  REQUIRE(r.exit_code == 0);
  const auto final_file = data.path / "out" / "tables" / "orders_2026.csv.gz";
  REQUIRE(std::filesystem::exists(final_file));
  const std::string gz = runner_test::read_file(final_file.string());
  REQUIRE(gz.size() > 18);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  CHECK(gunzip(final_file) == "id,customer,amount\n1,alice,10.50\n2,bob,7.25\n3,carol,12.00\n");
  // Only the last stage's outputs come back; the user's in/ is as they left it.
  CHECK(!std::filesystem::exists(data.path / "out" / "tables" / "orders.csv"));
  CHECK(runner_test::read_file((data.path / "in" / "tables" / "mine.csv").string()) == "kept\n");
  CHECK(!std::filesystem::exists(data.path / "in" / "tables" / "orders.csv"));
  // Every stage's events carry their stage.
  CHECK(stdout_of(r.events, "main") ==
        std::vector<std::string>{"wrote 4 lines to out/tables/orders.csv"});
  // The rename processor saw the main output (and the user's file) as its input.
  const auto renamed = stdout_of(r.events, "after-1");
  CHECK(std::find(renamed.begin(), renamed.end(), "renamed orders.csv to orders_2026.csv") !=
        renamed.end());
  // Keboola's move replaced in/tables with the component's out/tables: the user's mine.csv was
  // the component's input only.
  CHECK(stdout_of(r.events, "after-2") == std::vector<std::string>{"compressed orders_2026.csv"});
  std::size_t runner_in_stage = 0;
  for (const auto& e : r.events)
    if (e["kind"] == "event" && e["source"] == "runner" && e.contains("fields") &&
        e["fields"].contains("stage"))
      ++runner_in_stage;
  CHECK(runner_in_stage >= 3);  // "Running component ..." of each stage
  CHECK(r.result["status"] == "success");
}

TEST_CASE("a failing processor fails the job naming it, and later stages do not run",
          "[e2e][processors]") {
  const json doc = {{"id", "test.chain"},
                    {"image", kImage},
                    {"command", {"sh", "-c", "cat /data/in/tables/seed.csv; echo main-ran"}},
                    {"processors",
                     {{"before",
                       {stage("test.seed", "echo 'a,b' > /data/out/tables/seed.csv; echo seeded"),
                        stage("test.broken", "echo 'cannot parse seed.csv' >&2; exit 1")}},
                      {"after", {stage("test.never", "echo never")}}}}};
  const auto r = run_job(temp_file(doc.dump()));
  CHECK(r.exit_code == 1);
  CHECK(r.result["message"] == "Processor before-2 (test.broken) failed: cannot parse seed.csv");
  CHECK(stdout_of(r.events, "before-1") == std::vector<std::string>{"seeded"});
  CHECK(stdout_of(r.events, "main").empty());
  CHECK(stdout_of(r.events, "after-1").empty());
}

TEST_CASE("a before-processor's outputs are the main component's inputs, with its own config",
          "[e2e][processors]") {
  const json doc = {
      {"id", "test.chain"},
      {"image", kImage},
      {"parameters", {{"who", "main"}}},
      {"command",
       {"sh", "-c", "cat /data/in/tables/seed.csv; grep -c '\"who\": \"main\"' /data/config.json"}},
      {"processors",
       {{"before",
         {stage("test.seed",
                "grep -q '\"who\": \"seed\"' /data/config.json && echo 'x,y' > "
                "/data/out/tables/seed.csv",
                {{"parameters", {{"who", "seed"}}}})}}}}};
  const auto r = run_job(temp_file(doc.dump()));
  CHECK(r.exit_code == 0);
  CHECK(stdout_of(r.events, "main") == std::vector<std::string>{"x,y", "1"});
}

TEST_CASE("stages that run as different users all read their inputs and write their outputs",
          "[e2e][processors][user]") {
  // A processor as uid 2000 before a component as uid 1000, then a root one: the folders are
  // made for all three, so none is refused /data/out or the file the stage before it wrote.
  const json doc = {
      {"id", "test.users"},
      {"image", kImage},
      {"user", "1000"},
      {"command",
       {"sh", "-c",
        "id -u; cat /data/in/tables/seed.csv && echo main > /data/out/tables/main.csv && touch "
        "/tmp/scratch"}},
      {"processors",
       {{"before",
         {stage("test.seed", "id -u; echo seeded > /data/out/tables/seed.csv",
                {{"user", "2000"}})}},
        {"after", {stage("test.last", "id -u; cat /data/in/tables/main.csv")}}}}};
  const auto r = run_job(temp_file(doc.dump()));
  INFO(r.err << r.terminal);
  CHECK(r.exit_code == 0);
  CHECK(stdout_of(r.events, "before-1") == std::vector<std::string>{"2000"});
  CHECK(stdout_of(r.events, "main") == std::vector<std::string>{"1000", "seeded"});
  CHECK(stdout_of(r.events, "after-1") == std::vector<std::string>{"0", "main"});
}

TEST_CASE("the job's timeout covers every stage of the chain", "[e2e][processors]") {
  const json doc = {{"id", "test.chain"},
                    {"image", kImage},
                    {"limits", {{"timeout", 4}}},
                    {"command", {"sh", "-c", "sleep 3; echo main"}},
                    {"processors", {{"after", {stage("test.slow", "sleep 30")}}}}};
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_job(temp_file(doc.dump()));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(r.exit_code == 1);
  CHECK(seconds < 20);
  CHECK(r.result["message"] ==
        "Processor after-1 (test.slow) failed: Component exceeded the timeout of 4 seconds");
}

TEST_CASE("bad processors and rows are exit 65 naming the field path", "[e2e][processors][rows]") {
  const json doc = {
      {"id", "test.bad"},
      {"image", kImage},
      {"processors",
       {{"after", {{{"image", 5}}, {{"image", kImage}, {"limits", {{"timeout", 9}}}}, "nope.json"}},
        {"during", json::array()}}},
      {"rows", {{{"id", "a"}, {"is_disabled", "yes"}}, {{"id", "a"}}, {{"parameters", 1}}}}};
  const auto r = run_cli({"run", temp_file(doc.dump()), "--store", "none"});
  CHECK(r.exit_code == 65);
  CHECK(r.err.find("$.processors.after[2]: in the processor file") != std::string::npos);
  // The file that cannot be read is reported first (before the rest is validated); fix it and
  // the rest shows.
  json fixed = doc;
  fixed["processors"]["after"].erase(2);
  const auto all = run_cli({"run", temp_file(fixed.dump()), "--store", "none"});
  CHECK(all.exit_code == 65);
  for (const char* path :
       {"$.processors.during: unknown key", "$.processors.after[0].image: expected",
        "$.processors.after[1].limits.timeout: not allowed", "$.rows[0].is_disabled: expected",
        "$.rows[1].id: duplicate", "$.rows[2].id: required", "$.rows[2].parameters: expected"})
    CHECK(all.err.find(path) != std::string::npos);
}

TEST_CASE(
    "rows run in order with merged parameters, a disabled row is skipped and a failing "
    "one stops the job",
    "[e2e][rows]") {
  const std::string script =
      "echo \"row=$KBC_CONFIGROWID $(tr -d ' \\n' < /data/config.json)\"; test -e "
      "/data/out/tables/leftover && echo dirty; "
      "touch /data/out/tables/leftover; grep -q '\"fail\": true' /data/config.json && "
      "{ echo \"row $KBC_CONFIGROWID broke\" >&2; exit 1; }; exit 0";
  const json doc = {{"id", "test.rows"},
                    {"image", kImage},
                    {"command", {"sh", "-c", script}},
                    {"parameters", {{"db", {{"host", "h"}, {"port", 1}}}, {"fail", false}}},
                    {"rows",
                     {{{"id", "orders"}, {"parameters", {{"db", {{"port", 2}}}}}},
                      {{"id", "skipped"}, {"is_disabled", true}, {"parameters", {{"fail", true}}}},
                      {{"id", "items"}, {"parameters", {{"fail", true}}}},
                      {{"id", "later"}, {"parameters", json::object()}}}}};
  const std::string file = temp_file(doc.dump());
  const auto r = run_job(file);
  CHECK(r.exit_code == 1);
  const auto orders_out = stdout_of(r.events, "main", "orders");
  REQUIRE(orders_out.size() == 1);
  CHECK(orders_out[0].rfind("row=orders {", 0) == 0);
  CHECK(orders_out[0].find("\"parameters\":{\"db\":{\"host\":\"h\",\"port\":2},\"fail\":false}") !=
        std::string::npos);
  CHECK(stdout_of(r.events, "main", "items").size() == 1);  // a fresh folder: no "dirty"
  CHECK(stdout_of(r.events, "main", "skipped").empty());
  CHECK(stdout_of(r.events, "main", "later").empty());
  CHECK(r.result["message"] == "Row items: row items broke");
  json rows = r.result["rows"];
  REQUIRE(rows.size() == 4);
  // The rows that ran say how long they took.
  CHECK(rows[0]["duration"].is_number());
  CHECK(rows[2]["duration"].is_number());
  rows[0].erase("duration");
  rows[2].erase("duration");
  CHECK(rows[0] == json({{"id", "orders"},
                         {"status", "success"},
                         {"exit_code", 0},
                         {"message", "Component finished successfully"}}));
  CHECK(rows[1] == json({{"id", "skipped"}, {"status", "disabled"}}));
  CHECK(rows[2]["id"] == "items");
  CHECK(rows[2]["status"] == "error");
  CHECK(rows[2]["exit_code"] == 1);
  CHECK(rows[3] == json({{"id", "later"}, {"status", "not_run"}}));

  // --row runs one row, disabled or not.
  const auto one = run_job(file, {"--row", "skipped"});
  CHECK(one.exit_code == 1);
  CHECK(stdout_of(one.events, "main", "skipped").size() == 1);
  REQUIRE(one.result["rows"].size() == 1);
  CHECK(one.result["rows"][0]["id"] == "skipped");
  const auto orders = run_job(file, {"--row", "orders"});
  CHECK(orders.exit_code == 0);
  const auto unknown = run_cli({"run", file, "--store", "none", "--row", "nope"});
  CHECK(unknown.exit_code == 64);
  CHECK(unknown.err.find("no such row (rows: orders, skipped, items, later)") != std::string::npos);
}

TEST_CASE("a processor's container is labelled like the main one and stopped by SIGTERM",
          "[e2e][processors]") {
  const std::string label = unique_name("e2e-stage-");
  const json doc = {
      {"id", "test.chain"},
      {"image", kImage},
      {"labels", {{"e2e", label}}},
      {"command", {"sh", "-c", "echo main-done"}},
      {"processors",
       {{"after",
         {stage("test.slow", "echo slow-started; sleep 60", {{"labels", {{"e2e", label}}}}),
          stage("test.never", "echo never")}}}}};
  const std::string events = temp_file("", ".jsonl");
  runner_test::CliProcess runner(
      {"run", temp_file(doc.dump()), "--store", "none", "--events", events});
  REQUIRE(runner.wait_for_output("slow-started"));
  const auto running = runner_test::engine_client().list_containers({"e2e=" + label});
  REQUIRE(running.size() == 1);
  const auto& labels = running[0].labels;
  CHECK(labels.at("io.runner.stage") == "after-1");
  CHECK(labels.at("io.runner.managed") == "true");
  CHECK(labels.at("io.runner.component-id") == "test.slow");
  CHECK(labels.count("io.runner.job-id") == 1);
  CHECK(running[0].name.find("-after-1") != std::string::npos);
  runner.signal(SIGTERM);
  CHECK(runner.wait() == 143);
  CHECK(runner_test::engine_client().list_containers({"e2e=" + label}).empty());
  const auto lines = runner_test::read_json_lines(events);
  std::filesystem::remove(events);
  CHECK(stdout_of(lines, "after-2").empty());
  REQUIRE(!lines.empty());
  CHECK(lines.back()["status"] == "terminated");
}

TEST_CASE("with --data-dir a chain uses the user's config.json and gives outputs to its owner",
          "[e2e][processors][data-dir]") {
  REQUIRE(::geteuid() == 0);
  TempDir data;
  const std::string hand = R"({"parameters": {"who": "the file", "#token": "tok-5c1d"}}
)";
  { std::ofstream(data.path / "config.json") << hand; }
  // The folder belongs to "the user who ran runner" (neither root nor the container's user).
  REQUIRE(::chown(data.path.c_str(), 2222, 2222) == 0);
  const std::string main_script =
      "tr -d ' \\n' < /data/config.json; echo; echo x > /data/out/tables/a.csv";
  json doc = {{"id", "test.chain-file"},
              {"image", kImage},
              {"command", {"sh", "-c", main_script}},
              {"processors",
               {{"after",
                 {stage("test.copy",
                        "tr -d ' \\n' < /data/config.json; echo; mkdir -p /data/out/tables/sub; "
                        "cp /data/in/tables/a.csv /data/out/tables/sub/a.csv",
                        {{"parameters", {{"who", "processor"}}}})}}}}};
  const auto r = run_job(temp_file(doc.dump()), {"--data-dir", data.path.string()});
  INFO(r.err << r.terminal);
  REQUIRE(r.exit_code == 0);
  const auto main_out = stdout_of(r.events, "main");
  REQUIRE(main_out.size() == 1);
  CHECK(main_out[0] == R"({"parameters":{"#token":"[hidden]","who":"thefile"}})");
  const auto copied = stdout_of(r.events, "after-1");
  REQUIRE(copied.size() == 1);
  CHECK(copied[0].find(R"("parameters":{"who":"processor"})") != std::string::npos);
  CHECK(runner_test::read_file((data.path / "config.json").string()) == hand);  // kept as written
  // The chain's final outputs, copied back, are the folder owner's like a single run's.
  CHECK(runner_test::read_file((data.path / "out/tables/sub/a.csv").string()) == "x\n");
  for (const char* path : {"out", "out/tables", "out/tables/sub", "out/tables/sub/a.csv"}) {
    INFO(path);
    struct stat st {};
    REQUIRE(::lstat((data.path / path).c_str(), &st) == 0);
    CHECK(st.st_uid == 2222);
    CHECK(st.st_gid == 2222);
  }
  // Rows: each row's parameters merged over the file's.
  json rows = doc;
  rows["processors"] = json::object();
  rows["rows"] = {{{"id", "r1"}, {"parameters", {{"extra", 1}}}}};
  rows["command"] = {"sh", "-c", "tr -d ' \\n' < /data/config.json; echo"};
  const auto with_rows = run_job(temp_file(rows.dump()), {"--data-dir", data.path.string()});
  REQUIRE(with_rows.exit_code == 0);
  CHECK(stdout_of(with_rows.events, "main", "r1") ==
        std::vector<std::string>{
            R"({"parameters":{"#token":"[hidden]","extra":1,"who":"thefile"}})"});
  // Both the file and `parameters`: exit 65, as for a single run, the file untouched.
  doc["parameters"] = {{"who", "component"}};
  const auto both =
      run_cli({"run", temp_file(doc.dump()), "--store", "none", "--data-dir", data.path.string()});
  CHECK(both.exit_code == 65);
  CHECK((both.out + both.err).find("$.parameters: given, but --data-dir") != std::string::npos);
  CHECK(runner_test::read_file((data.path / "config.json").string()) == hand);
}

TEST_CASE("runner show lists every row's and stage's result, from the store",
          "[e2e][rows][processors][store]") {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path / "runner.db").string();
  const json doc = {
      {"id", "test.show-runs"},
      {"image", kImage},
      {"command", {"sh", "-c", "grep -q '\"fail\": true' /data/config.json && exit 1; exit 0"}},
      {"parameters", {{"fail", false}}},
      {"processors", {{"after", {stage("test.after", "true")}}}},
      {"rows",
       {{{"id", "orders"}},
        {{"id", "off"}, {"is_disabled", true}},
        {{"id", "items"}, {"parameters", {{"fail", true}}}},
        {{"id", "later"}}}}};
  const auto r = run_cli({"run", temp_file(doc.dump()), "--store", store});
  CHECK(r.exit_code == 1);
  const auto at = r.out.rfind("Job ");
  REQUIRE(at != std::string::npos);
  const std::string job = r.out.substr(at + 4, 36);
  const auto shown = run_cli({"show", job, "--store", store});
  INFO(shown.out << shown.err);
  REQUIRE(shown.exit_code == 0);
  // One line per container run, one per row that did not run, in file order.
  std::vector<std::string> table;
  std::istringstream lines(shown.out);
  bool in_table = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Runs ", 0) == 0) in_table = true;
    if (in_table && line.rfind("Runs ", 0) != 0 && line.rfind("            ", 0) != 0) break;
    if (!in_table) continue;
    std::istringstream words(line.substr(12));
    std::string word, joined;
    while (words >> word) joined += (joined.empty() ? "" : " ") + word;
    table.push_back(joined.substr(0, joined.rfind(' ')));  // without the duration
  }
  CHECK(table == std::vector<std::string>{
                     "ROW STAGE COMPONENT STATUS EXIT", "orders main test.show-runs success 0/0",
                     "orders after-1 test.after success 0/0", "off - - disabled -",
                     "items main test.show-runs error 1/1", "later - - not_run -"});
  // --json: the same as the result record's fields.
  const auto as_json = run_cli({"show", job, "--store", store, "--json"});
  REQUIRE(as_json.exit_code == 0);
  const json doc_shown = json::parse(as_json.out);
  REQUIRE(doc_shown["stages"].size() == 3);
  CHECK(doc_shown["stages"][2] == json({{"row", "items"},
                                        {"stage", "main"},
                                        {"component_id", "test.show-runs"},
                                        {"status", "error"},
                                        {"exit_code", 1},
                                        {"container_exit_code", 1},
                                        {"duration", doc_shown["stages"][2]["duration"]}}));
  CHECK(doc_shown["stages"][2]["duration"].is_number());
  REQUIRE(doc_shown["rows"].size() == 4);
  CHECK(doc_shown["rows"][1] == json({{"id", "off"}, {"status", "disabled"}}));
}

// append_json_string and the JSON Lines sink: output parses back to the original text.
#include "logging/json_text.hpp"
#include "logging/jsonl_sink.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

using namespace runner::logging;

TEST_CASE("escaped strings parse back to the same text", "[logging][json]") {
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  all += "\xC3\xA9\xE2\x80\xA8 done";
  std::string out;
  append_json_string(out, all);
  CHECK(nlohmann::json::parse(out).get<std::string>() == all);
}

TEST_CASE("JSON Lines sink writes event and result records", "[logging][json]") {
  char path[] = "/tmp/runner-jsonl-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    JsonLinesSink sink(OutputFile::open(path));
    nlohmann::json fields = {{"rows", 5}};
    Event e;
    e.time = EventTime(std::chrono::microseconds(1763726054123456));
    e.job_id = "job-1";
    e.sequence = 7;
    e.level = Level::warning;
    e.source = "stdout";
    e.message = "quote \" and \\ and \ttab";
    e.fields = &fields;
    sink.write(e);
    JobSummary s;
    s.job_id = "job-1";
    s.status = runner::logging::JobStatus::error;
    s.error_type = runner::logging::ErrorType::user;
    s.exit_code = 1;
    s.container_exit_code = 1;
    s.message = "bad";
    sink.finish(s);
  }
  std::ifstream in(path);
  std::string line;
  REQUIRE(std::getline(in, line));
  auto ev = nlohmann::json::parse(line);
  CHECK(ev["kind"] == "event");
  CHECK(ev["time"] == "2025-11-21T11:54:14.123456Z");
  CHECK(ev["seq"] == 7);
  CHECK(ev["level"] == "warning");
  CHECK(ev["message"] == "quote \" and \\ and \ttab");
  CHECK(ev["fields"]["rows"] == 5);
  REQUIRE(std::getline(in, line));
  auto res = nlohmann::json::parse(line);
  CHECK(res["kind"] == "result");
  CHECK(res["status"] == "error");
  CHECK(res["error_type"] == "user");
  CHECK(res["exit_code"] == 1);
  CHECK(res["container_exit_code"] == 1);
  std::remove(path);
}

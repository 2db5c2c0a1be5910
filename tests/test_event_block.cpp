// EventBlockBuilder / decode_block: the stored block format round-trips every field, escapes
// hostile text, tracks sequence range, time range and level mask, and starts afresh after take().
#include "store/event_block.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using runner::logging::EventTime;
using runner::logging::Level;
using runner::store::EventBlockBuilder;

namespace {
EventTime at(std::int64_t us) {
  return EventTime(std::chrono::microseconds(us));
}
}  // namespace

TEST_CASE("a block round-trips events with every field", "[store][block]") {
  EventBlockBuilder builder("job-1");
  builder.add(1, at(1'000'000), Level::info, "stdout", "hello", "");
  builder.add(2, at(1'000'500), Level::error, "stderr", "quote \" backslash \\ tab \t nl \n \x01",
              R"({"a":1,"b":"x"})");
  builder.add(5, at(999'000), Level::debug, "gelf", "zażółć 🎉", "");
  CHECK(builder.count() == 3);
  const auto block = builder.take();
  CHECK(builder.empty());
  CHECK(block.job_id == "job-1");
  CHECK(block.first_sequence == 1);
  CHECK(block.last_sequence == 5);
  CHECK(block.min_time == at(999'000));
  CHECK(block.max_time == at(1'000'500));
  CHECK(block.level_mask == ((1u << 1) | (1u << 4) | (1u << 0)));
  CHECK(nlohmann::json::parse(block.events).size() == 3);  // valid JSON

  const auto events = runner::store::decode_block(block);
  REQUIRE(events.size() == 3);
  CHECK(events[0].job_id == "job-1");
  CHECK(events[0].sequence == 1);
  CHECK(events[0].time == at(1'000'000));
  CHECK(events[0].level == Level::info);
  CHECK(events[0].source == "stdout");
  CHECK(events[0].message == "hello");
  CHECK(events[0].fields.empty());
  CHECK(events[1].message == "quote \" backslash \\ tab \t nl \n \x01");
  CHECK(nlohmann::json::parse(events[1].fields) == nlohmann::json{{"a", 1}, {"b", "x"}});
  CHECK(events[1].level == Level::error);
  CHECK(events[2].message == "zażółć 🎉");
  CHECK(events[2].id() == "job-1-000000000005");
}

TEST_CASE("take() starts a new block with its own ranges", "[store][block]") {
  EventBlockBuilder builder("j");
  builder.add(1, at(10), Level::warning, "runner", "a", "");
  const auto first = builder.take();
  builder.add(2, at(20), Level::info, "stdout", "b", "");
  const auto second = builder.take();
  CHECK(first.first_sequence == 1);
  CHECK(first.level_mask == (1u << 3));
  CHECK(second.first_sequence == 2);
  CHECK(second.last_sequence == 2);
  CHECK(second.min_time == at(20));
  CHECK(second.level_mask == (1u << 1));
  CHECK(runner::store::decode_block(second).at(0).message == "b");
  CHECK(builder.take().events.empty());  // nothing added: an empty block
}

TEST_CASE("a corrupt block is refused with its row and job", "[store][block]") {
  runner::store::EventBlock block;
  block.row_id = 42;
  block.job_id = "job-x";
  block.events = "{not json";
  CHECK_THROWS_WITH(runner::store::decode_block(block),
                    Catch::Contains("42") && Catch::Contains("job-x"));
}

TEST_CASE("event ids sort like (job, sequence)", "[store][block]") {
  runner::store::StoredEvent a, b;
  a.job_id = b.job_id = "0192aaaa-0000-7000-8000-000000000000";
  a.sequence = 9;
  b.sequence = 10;
  CHECK(a.id() < b.id());
  CHECK(a.id() == "0192aaaa-0000-7000-8000-000000000000-000000000009");
}

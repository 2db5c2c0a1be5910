// EventBlockBuilder / decode_block / append_block: the stored block format round-trips every
// field, keeps hostile text as it was, tracks sequence range, time range and level mask, starts
// afresh after take(), joins blocks, and refuses damaged text (cut short, random bytes, lengths
// past the end) with a StoreError, never a crash or a wrong event.
#include "store/event_block.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

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
  CHECK(block.events.front() == runner::store::kBinaryBlockFormat);
  CHECK(block.event_count == 3);

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

TEST_CASE("joined blocks read back as one, gaps and backward times included", "[store][block]") {
  EventBlockBuilder builder("j");
  builder.add(1, at(5'000'000), Level::info, "stdout", "a", "");
  builder.add(2, at(4'000'000), Level::info, "stdout", "b", "");  // the clock went back
  auto joined = builder.take();
  builder.add(7, at(6'000'000), Level::warning, "stderr", "c", R"({"k":[1,2]})");
  builder.add(8, at(6'000'001), Level::info, "stdout", std::string("nul\0byte", 8), "");
  builder.add(100, at(6'000'002), Level::info, "stdout", std::string(300, 'x'), "");
  runner::store::append_block(joined, builder.take());
  CHECK(joined.first_sequence == 1);
  CHECK(joined.last_sequence == 100);
  CHECK(joined.event_count == 5);
  CHECK(joined.min_time == at(4'000'000));
  CHECK(joined.max_time == at(6'000'002));
  const auto events = runner::store::decode_block(joined);
  REQUIRE(events.size() == 5);
  const std::vector<std::uint64_t> seqs = {events[0].sequence, events[1].sequence,
                                           events[2].sequence, events[3].sequence,
                                           events[4].sequence};
  CHECK(seqs == std::vector<std::uint64_t>{1, 2, 7, 8, 100});
  CHECK(events[1].time == at(4'000'000));
  CHECK(events[2].time == at(6'000'000));
  CHECK(events[2].level == Level::warning);
  CHECK(events[2].source == "stderr");
  CHECK(events[2].fields == R"({"k":[1,2]})");
  CHECK(events[3].message == std::string("nul\0byte", 8));
  CHECK(events[3].source == "stdout");
  CHECK(events[4].message == std::string(300, 'x'));
}

TEST_CASE("blocks in the JSON form of older runners still read and join", "[store][block]") {
  runner::store::EventBlock a, b;
  a.job_id = b.job_id = "old";
  a.events = R"([[1,10,"x"]])";
  a.first_sequence = a.last_sequence = 1;
  a.event_count = 1;
  b.events = R"([[2,20,"y","error","stderr"]])";
  b.first_sequence = b.last_sequence = 2;
  b.event_count = 1;
  runner::store::append_block(a, std::move(b));
  const auto events = runner::store::decode_block(a);
  REQUIRE(events.size() == 2);
  CHECK(events[1].message == "y");
  CHECK(events[1].level == Level::error);
}

TEST_CASE("a damaged binary block is refused, never misread", "[store][block]") {
  EventBlockBuilder builder("job-d");
  for (std::uint64_t i = 1; i <= 50; ++i)
    builder.add(i, at(1'000'000 + static_cast<std::int64_t>(i)),
                i % 3 == 0 ? Level::error : Level::info, i % 3 == 0 ? "stderr" : "stdout",
                "message " + std::to_string(i), i % 4 == 0 ? R"({"i":1})" : "");
  auto good = builder.take();
  good.row_id = 5;
  auto refused = [&](const std::string& text) {
    runner::store::EventBlock b = good;
    b.events = text;
    CHECK_THROWS_WITH(runner::store::decode_block(b),
                      Catch::Contains("event block 5 of job job-d"));
  };
  // Cut short at every length inside the first entries and the last one.
  for (std::size_t n = 2; n < 40; ++n) {
    const std::string cut = good.events.substr(0, n);
    runner::store::EventBlock b = good;
    b.events = cut;
    try {
      const auto events = runner::store::decode_block(b);
      // A cut exactly between two entries is a shorter block: then every event read is intact.
      for (const auto& e : events) CHECK(e.message.rfind("message ", 0) == 0);
    } catch (const runner::store::StoreError& e) {
      CHECK_THAT(e.what(), Catch::Contains("event block 5 of job job-d"));
    }
  }
  refused(good.events.substr(0, good.events.size() - 1));
  std::string first_not_absolute = good.events;
  first_not_absolute[1] = 0;  // a delta with nothing to be a delta of
  refused(first_not_absolute);
  std::string unknown_flag = good.events;
  unknown_flag[1] = static_cast<char>(0x81);
  refused(unknown_flag);
  std::string huge_length = std::string(1, runner::store::kBinaryBlockFormat) + '\x01' + '\x01' +
                            '\x01' + "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  refused(huge_length);
  std::string long_varint =
      std::string(1, runner::store::kBinaryBlockFormat) + '\x01' + std::string(12, '\xff') + '\x01';
  refused(long_varint);
  std::string bad_level = std::string(1, runner::store::kBinaryBlockFormat) + '\x05' + '\x01' +
                          '\x01' + '\x09' + '\x00' + '\x00';
  refused(bad_level);
  // Random bytes behind the format byte: a StoreError or a block of well-formed events.
  std::mt19937 rng(14);
  for (int i = 0; i < 500; ++i) {
    std::string junk(1, runner::store::kBinaryBlockFormat);
    for (int k = 0; k < 48; ++k) junk.push_back(static_cast<char>(rng()));
    runner::store::EventBlock b = good;
    b.events = junk;
    try {
      for (const auto& e : runner::store::decode_block(b))
        CHECK(static_cast<unsigned>(e.level) <= static_cast<unsigned>(Level::emergency));
    } catch (const runner::store::StoreError&) {
    }
  }
}

TEST_CASE("event ids sort like (job, sequence)", "[store][block]") {
  runner::store::StoredEvent a, b;
  a.job_id = b.job_id = "0192aaaa-0000-7000-8000-000000000000";
  a.sequence = 9;
  b.sequence = 10;
  CHECK(a.id() < b.id());
  CHECK(a.id() == "0192aaaa-0000-7000-8000-000000000000-000000000009");
}

// BlockCompressor / expand_block_text: a packed block reads back exactly as it was built, a block
// in the old (uncompressed JSON) form still reads, and a damaged frame is a StoreError naming the
// block, never a crash or a wrong event.
#include "store/block_codec.hpp"
#include "store/event_block.hpp"

#include <catch2/catch.hpp>

#include <random>

using runner::logging::EventTime;
using runner::logging::Level;
using runner::store::BlockCompressor;
using runner::store::EventBlock;
using runner::store::EventBlockBuilder;
using runner::store::StoreError;

namespace {

EventTime at(std::int64_t us) {
  return EventTime(std::chrono::microseconds(us));
}

EventBlock sample_block(std::size_t events) {
  EventBlockBuilder builder("job-z");
  for (std::size_t i = 1; i <= events; ++i)
    builder.add(i, at(1'000'000 + static_cast<std::int64_t>(i)),
                i % 7 == 0 ? Level::error : Level::info, i % 7 == 0 ? "stderr" : "stdout",
                "line " + std::to_string(i) + " \"q\" \\ \t zażółć",
                i % 5 == 0 ? R"({"n":1})" : "");
  auto block = builder.take();
  block.row_id = 7;
  return block;
}

}  // namespace

TEST_CASE("a packed block expands to the same text and the same events", "[store][codec]") {
  EventBlock block = sample_block(5000);
  const std::string text = block.events;
  const auto plain = runner::store::decode_block(block);
  CHECK(block.event_count == 5000);
  BlockCompressor compressor;
  compressor.pack(block);
  CHECK(block.events.empty());
  REQUIRE_FALSE(block.packed.empty());
  CHECK(block.packed.size() < text.size() / 4);  // repetitive lines compress well
  CHECK(runner::store::expand_block_text(block) == text);
  const auto packed = runner::store::decode_block(block);
  REQUIRE(packed.size() == plain.size());
  for (std::size_t i = 0; i < packed.size(); ++i) {
    CHECK(packed[i].sequence == plain[i].sequence);
    CHECK(packed[i].time == plain[i].time);
    CHECK(packed[i].level == plain[i].level);
    CHECK(packed[i].source == plain[i].source);
    CHECK(packed[i].message == plain[i].message);
    CHECK(packed[i].fields == plain[i].fields);
  }
  // The compressor is reused: a second block is independent of the first.
  EventBlock second = sample_block(3);
  const std::string second_text = second.events;
  compressor.pack(second);
  CHECK(runner::store::expand_block_text(second) == second_text);
}

TEST_CASE("a block stored before compression (plain JSON) still reads", "[store][codec]") {
  EventBlock old;
  old.row_id = 3;
  old.job_id = "job-old";
  old.events = R"([[1,1000000,"first"],[2,1000001,"second","warning","stderr",{"a":1}]])";
  CHECK(runner::store::expand_block_text(old) == old.events);
  const auto events = runner::store::decode_block(old);
  REQUIRE(events.size() == 2);
  CHECK(events[0].message == "first");
  CHECK(events[1].level == Level::warning);
  CHECK(events[1].source == "stderr");
  CHECK(events[1].fields == R"({"a":1})");
}

TEST_CASE("a damaged frame is refused with its block and job", "[store][codec]") {
  EventBlock block = sample_block(2000);
  BlockCompressor compressor;
  compressor.pack(block);
  const std::string good = block.packed;
  auto refused = [&](const std::string& packed) {
    EventBlock b = block;
    b.packed = packed;
    CHECK_THROWS_AS(runner::store::decode_block(b), StoreError);
    CHECK_THROWS_WITH(runner::store::decode_block(b),
                      Catch::Contains("event block 7 of job job-z is corrupt"));
  };
  refused("not a zstd frame at all");
  refused(good.substr(0, good.size() / 2));  // truncated
  refused(good.substr(0, 6));                // only the header
  std::string flipped = good;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5a);
  refused(flipped);  // caught by the frame's checksum if not by the decoder
  std::string flipped_checksum = good;
  flipped_checksum.back() = static_cast<char>(flipped_checksum.back() ^ 1);
  refused(flipped_checksum);
  // Random bytes after a valid magic number: never a crash.
  std::mt19937 rng(14);
  for (int i = 0; i < 200; ++i) {
    std::string junk = good.substr(0, 4);
    for (int k = 0; k < 64; ++k) junk.push_back(static_cast<char>(rng()));
    EventBlock b = block;
    b.packed = junk;
    CHECK_THROWS_AS(runner::store::decode_block(b), StoreError);
  }
}

TEST_CASE("a frame that claims more than a block may hold is refused before expanding",
          "[store][codec]") {
  // A frame header declaring a 1 TiB content (single segment off, FCS field of 8 bytes).
  std::string bomb = "\x28\xb5\x2f\xfd";
  bomb.push_back(static_cast<char>(0xc0));  // frame header descriptor: FCS 8 bytes
  bomb.push_back(0x50);                     // window descriptor
  const std::uint64_t size = std::uint64_t{1} << 40;
  for (int i = 0; i < 8; ++i) bomb.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  EventBlock b;
  b.row_id = 9;
  b.job_id = "job-b";
  b.packed = bomb;
  CHECK_THROWS_WITH(runner::store::expand_block_text(b),
                    Catch::Contains("job-b") && Catch::Contains("claims"));
}

TEST_CASE("binary blocks handed to a store unpacked are packed for storing", "[store][codec]") {
  std::vector<EventBlock> blocks = {sample_block(10)};
  CHECK(blocks[0].packed.empty());
  const auto stored = runner::store::packed_for_storing(blocks);
  REQUIRE(stored.has_value());
  CHECK(stored->at(0).events.empty());
  CHECK_FALSE(stored->at(0).packed.empty());
  CHECK(runner::store::decode_block(stored->at(0)).size() == 10);
  // Packed already, or JSON of an older runner: stored as they are.
  BlockCompressor().pack(blocks[0]);
  CHECK_FALSE(runner::store::packed_for_storing(blocks).has_value());
  EventBlock old;
  old.events = R"([[1,1,"a"]])";
  CHECK_FALSE(runner::store::packed_for_storing({old}).has_value());
}

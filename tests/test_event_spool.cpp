// EventSpool: blocks written to the on-disk spool come back in order, each once, with every
// field; a full spool refuses a block whole; the file exists only while something waits in it.
#include "store/event_spool.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

using runner::store::EventBlock;
using runner::store::EventSpool;

namespace {

EventBlock block(std::uint64_t first, std::uint64_t last, const std::string& text) {
  EventBlock b;
  b.first_sequence = first;
  b.last_sequence = last;
  b.min_time = runner::logging::EventTime(std::chrono::microseconds(1000 + first));
  b.max_time = runner::logging::EventTime(std::chrono::microseconds(2000 + last));
  b.level_mask = static_cast<std::uint32_t>(first % 7 + 1);
  b.event_count = last - first + 1;  // the compressed-block column (schema v3) comes back too
  b.events = text;
  return b;
}

}  // namespace

TEST_CASE("the spool gives back its blocks in order, once, and removes its file",
          "[store][spool]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("runner-spool-" + std::to_string(::getpid()));
  const auto file = dir / "job.spool";
  {
    EventSpool spool(file, 1 << 20);
    CHECK(spool.empty());
    CHECK_FALSE(std::filesystem::exists(file));  // nothing on disk until needed
    std::string problem;
    REQUIRE(spool.append(block(1, 3, "[[1,1,\"a\"],[2,1,\"b\"],[3,1,\"c\"]]"), problem));
    REQUIRE(spool.append(block(4, 4, "[[4,2,\"d\"]]"), problem));
    REQUIRE(spool.append(block(5, 9, std::string(1000, 'x')), problem));
    CHECK(std::filesystem::exists(file));
    CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
    auto first = spool.read(10);  // about 10 bytes: at least one block
    REQUIRE(first.size() == 1);
    CHECK(first[0].first_sequence == 1);
    CHECK(first[0].last_sequence == 3);
    CHECK(first[0].events == "[[1,1,\"a\"],[2,1,\"b\"],[3,1,\"c\"]]");
    CHECK(first[0].min_time.time_since_epoch().count() == 1001);
    CHECK(first[0].max_time.time_since_epoch().count() == 2003);
    CHECK(first[0].level_mask == 2);
    CHECK(first[0].event_count == 3);
    auto rest = spool.read(1 << 20);
    REQUIRE(rest.size() == 2);
    CHECK(rest[0].first_sequence == 4);
    CHECK(rest[1].first_sequence == 5);
    CHECK(rest[1].event_count == 5);
    CHECK(rest[1].events == std::string(1000, 'x'));
    CHECK(spool.empty());
    CHECK(spool.read(1 << 20).empty());
    spool.reset();
    CHECK_FALSE(std::filesystem::exists(file));

    // Written again after a reset: a new file, read from its start.
    REQUIRE(spool.append(block(10, 10, "[[10,3,\"e\"]]"), problem));
    CHECK(spool.read(100).at(0).first_sequence == 10);
  }
  CHECK_FALSE(std::filesystem::exists(file));  // removed with the spool
  std::filesystem::remove_all(dir);
}

TEST_CASE("a full spool refuses a block whole and says why", "[store][spool]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("runner-spool-full-" + std::to_string(::getpid()));
  EventSpool spool(dir / "job.spool", 2000);
  std::string problem;
  REQUIRE(spool.append(block(1, 1, std::string(1500, 'a')), problem));
  CHECK_FALSE(spool.append(block(2, 2, std::string(1500, 'b')), problem));
  CHECK_THAT(problem, Catch::Contains("is full"));
  const auto back = spool.read(1 << 20);
  REQUIRE(back.size() == 1);
  CHECK(back[0].first_sequence == 1);
  CHECK(spool.empty());
  spool.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("a killed runner's spool file is read up to its last whole record", "[store][spool]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("runner-spool-left-" + std::to_string(::getpid()));
  const auto file = dir / "job.spool";
  const auto left = dir / "left.spool";
  {
    EventSpool spool(file, 1 << 20);
    std::string problem;
    REQUIRE(spool.append(block(1, 2, std::string(100, 'a')), problem));
    REQUIRE(spool.append(block(3, 3, std::string(200, 'b')), problem));
    REQUIRE(spool.append(block(4, 9, std::string(300, 'c')), problem));
    // What a kill -9 leaves: the file as it is, here cut in the middle of the third record.
    std::filesystem::copy_file(file, left);
    std::filesystem::resize_file(left, std::filesystem::file_size(left) - 150);
  }
  {
    EventSpool spool = EventSpool::left_over(left);
    const auto back = spool.read(1 << 20);
    REQUIRE(back.size() == 2);
    CHECK(back[0].first_sequence == 1);
    CHECK(back[0].events == std::string(100, 'a'));
    CHECK(back[1].last_sequence == 3);
    CHECK(spool.read(1 << 20).empty());  // the cut record is never made up
    spool.reset();
  }
  CHECK_FALSE(std::filesystem::exists(left));
  // A header that claims more text than the file holds, and a file that is not there.
  {
    std::FILE* f = std::fopen(left.c_str(), "wb");
    REQUIRE(f != nullptr);
    // first, last, min_time, max_time, level mask + reserved, event count, text length
    const std::uint64_t header[7] = {1, 1, 0, 0, 0, 1, ~std::uint64_t{0} >> 1};
    std::fwrite(header, sizeof header, 1, f);
    std::fwrite("some text", 9, 1, f);
    std::fclose(f);
  }
  CHECK(EventSpool::left_over(left).read(1 << 20).empty());
  CHECK(EventSpool::left_over(dir / "none.spool").read(1 << 20).empty());
  std::filesystem::remove_all(dir);
}

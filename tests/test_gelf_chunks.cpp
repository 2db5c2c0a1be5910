// GelfChunkAssembler: every arrival order, duplicates, the 128-chunk and sequence limits, a count
// that changes mid-message, expiry 5 s after the first chunk (with an explicit clock), eviction
// under the memory cap, senders kept apart, and a flood of sets that never complete.
#include <catch2/catch.hpp>

#include "logging/gelf/chunk_assembler.hpp"
#include "logging/gelf/payload_encoder.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <vector>

using runner::logging::gelf::GelfChunkAssembler;
using runner::logging::gelf::GelfSender;
using runner::logging::gelf::make_gelf_chunks;
using namespace std::chrono_literals;

namespace {

const GelfChunkAssembler::Clock::time_point kStart{std::chrono::hours(1)};

GelfSender sender(std::uint8_t last_byte, std::uint16_t port = 40000) {
  GelfSender s;
  s.address[10] = 0xff;
  s.address[11] = 0xff;
  s.address[12] = 127;
  s.address[15] = last_byte;
  s.port = port;
  return s;
}

std::string chunk(std::uint64_t id, unsigned sequence, unsigned count, const std::string& data) {
  std::string datagram = make_gelf_chunks("x", id, 13)[0].substr(0, 12);
  datagram[10] = static_cast<char>(sequence);
  datagram[11] = static_cast<char>(count);
  return datagram + data;
}

}  // namespace

TEST_CASE("gelf chunks: a 3-chunk message completes in every arrival order", "[gelf]") {
  const std::string payload = "first part|second part|third";
  const std::vector<std::string> chunks = make_gelf_chunks(payload, 7, 12 + 10);
  REQUIRE(chunks.size() == 3);
  std::array<int, 3> order{0, 1, 2};
  int permutations = 0;
  do {
    GelfChunkAssembler assembler;
    CHECK(!assembler.add(chunks[order[0]], sender(1), kStart));
    CHECK(!assembler.add(chunks[order[1]], sender(1), kStart + 1ms));
    const auto done = assembler.add(chunks[order[2]], sender(1), kStart + 2ms);
    REQUIRE(done);
    CHECK(*done == payload);
    CHECK(assembler.pending_messages() == 0);
    CHECK(assembler.pending_bytes() == 0);
    CHECK(assembler.counters().completed == 1);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 6);
}

TEST_CASE("gelf chunks: duplicates are ignored and the first copy wins", "[gelf]") {
  GelfChunkAssembler assembler;
  CHECK(!assembler.add(chunk(1, 0, 2, "first"), sender(1), kStart));
  CHECK(!assembler.add(chunk(1, 0, 2, "SECOND"), sender(1), kStart));
  const auto done = assembler.add(chunk(1, 1, 2, "-end"), sender(1), kStart);
  REQUIRE(done);
  CHECK(*done == "first-end");
  CHECK(assembler.counters().duplicates == 1);
}

TEST_CASE("gelf chunks: a single-chunk message completes at once", "[gelf]") {
  GelfChunkAssembler assembler;
  const auto done = assembler.add(chunk(1, 0, 1, "{}"), sender(1), kStart);
  REQUIRE(done);
  CHECK(*done == "{}");
  CHECK(assembler.pending_messages() == 0);
}

TEST_CASE("gelf chunks: 128 chunks complete, 129 and malformed headers are rejected", "[gelf]") {
  GelfChunkAssembler assembler;
  std::string payload;
  for (int i = 0; i < 128; ++i) payload += static_cast<char>('a' + i % 26);
  const auto chunks = make_gelf_chunks(payload, 99, 13);
  REQUIRE(chunks.size() == 128);
  std::optional<std::string_view> done;
  for (auto it = chunks.rbegin(); it != chunks.rend(); ++it) {
    done = assembler.add(*it, sender(1), kStart);
  }
  REQUIRE(done);
  CHECK(*done == payload);
  CHECK_THROWS_AS(make_gelf_chunks(payload + "x", 1, 13), std::length_error);

  CHECK(!assembler.add(chunk(2, 0, 129, "x"), sender(1), kStart));
  CHECK(!assembler.add(chunk(2, 0, 0, "x"), sender(1), kStart));
  CHECK(!assembler.add(std::string("\x1e\x0f\x01\x02", 4), sender(1), kStart));
  CHECK(!assembler.add("not a chunk at all", sender(1), kStart));
  CHECK(assembler.counters().rejected == 4);
  CHECK(assembler.pending_messages() == 0);
}

TEST_CASE("gelf chunks: a sequence number out of range is rejected", "[gelf]") {
  GelfChunkAssembler assembler;
  CHECK(!assembler.add(chunk(3, 0, 2, "a"), sender(1), kStart));
  CHECK(!assembler.add(chunk(3, 2, 2, "b"), sender(1), kStart));
  CHECK(!assembler.add(chunk(3, 255, 2, "b"), sender(1), kStart));
  CHECK(assembler.counters().rejected == 2);
  const auto done = assembler.add(chunk(3, 1, 2, "c"), sender(1), kStart);
  REQUIRE(done);
  CHECK(*done == "ac");
}

TEST_CASE("gelf chunks: a count that changes mid-message rejects the message", "[gelf]") {
  GelfChunkAssembler assembler;
  CHECK(!assembler.add(chunk(4, 0, 3, "a"), sender(1), kStart));
  CHECK(!assembler.add(chunk(4, 1, 2, "b"), sender(1), kStart));
  CHECK(assembler.counters().rejected == 1);
  CHECK(assembler.pending_messages() == 0);
  CHECK(assembler.pending_bytes() == 0);
  // The rest of the old set does not complete anything.
  CHECK(!assembler.add(chunk(4, 2, 3, "c"), sender(1), kStart));
  CHECK(assembler.counters().completed == 0);
}

TEST_CASE("gelf chunks: incomplete messages expire 5 s after their first chunk", "[gelf]") {
  GelfChunkAssembler assembler;
  CHECK(!assembler.add(chunk(5, 0, 2, "a"), sender(1), kStart));
  CHECK(assembler.next_expiry() == kStart + 5s);
  // A later chunk does not extend the deadline.
  CHECK(!assembler.add(chunk(6, 0, 2, "x"), sender(1), kStart + 4s));
  assembler.expire(kStart + 4999ms);
  CHECK(assembler.pending_messages() == 2);
  CHECK(assembler.counters().expired == 0);
  // Just in time.
  CHECK(assembler.add(chunk(6, 1, 2, "y"), sender(1), kStart + 4999ms) == "xy");
  // Too late: the set expired, and the late chunk starts a new one.
  CHECK(!assembler.add(chunk(5, 1, 2, "b"), sender(1), kStart + 5s));
  CHECK(assembler.counters().expired == 1);
  CHECK(assembler.pending_messages() == 1);
  assembler.expire(kStart + 10s);
  CHECK(assembler.counters().expired == 2);
  CHECK(assembler.pending_messages() == 0);
  CHECK(assembler.pending_bytes() == 0);
  CHECK(!assembler.next_expiry());
}

TEST_CASE("gelf chunks: the memory cap evicts the oldest sets first", "[gelf]") {
  GelfChunkAssembler::Limits limits;
  limits.max_pending_bytes = 64 * 1024;
  GelfChunkAssembler assembler(limits);
  const std::string slice(8000, 's');
  for (std::uint64_t id = 1; id <= 20; ++id) {
    CHECK(
        !assembler.add(chunk(id, 0, 2, slice), sender(1), kStart + std::chrono::milliseconds(id)));
    CHECK(assembler.pending_bytes() <= limits.max_pending_bytes);
  }
  CHECK(assembler.counters().evicted > 0);
  const std::uint64_t evicted = assembler.counters().evicted;
  CHECK(evicted + assembler.pending_messages() == 20);
  // The newest survive, the oldest are gone.
  CHECK(assembler.add(chunk(20, 1, 2, "!"), sender(1), kStart + 1s)->size() == 8001);
  CHECK(!assembler.add(chunk(1, 1, 2, "!"), sender(1), kStart + 1s));
  // A set that cannot fit even alone is dropped.
  GelfChunkAssembler small(GelfChunkAssembler::Limits{5000ms, 4096});
  CHECK(!small.add(chunk(1, 0, 2, std::string(5000, 'x')), sender(1), kStart));
  CHECK(small.counters().evicted == 1);
  CHECK(small.pending_messages() == 0);
}

TEST_CASE("gelf chunks: the same id from two senders is kept apart", "[gelf]") {
  GelfChunkAssembler assembler;
  CHECK(!assembler.add(chunk(42, 0, 2, "A0"), sender(1), kStart));
  CHECK(!assembler.add(chunk(42, 0, 2, "B0"), sender(2), kStart));
  CHECK(!assembler.add(chunk(42, 0, 2, "C0"), sender(1, 40001), kStart));
  CHECK(assembler.pending_messages() == 3);
  CHECK(assembler.add(chunk(42, 1, 2, "B1"), sender(2), kStart) == "B0B1");
  CHECK(assembler.add(chunk(42, 1, 2, "A1"), sender(1), kStart) == "A0A1");
  CHECK(assembler.add(chunk(42, 1, 2, "C1"), sender(1, 40001), kStart) == "C0C1");
  CHECK(assembler.counters().duplicates == 0);
}

TEST_CASE("gelf chunks: 100,000 never-completed sets stay under the cap", "[gelf]") {
  GelfChunkAssembler::Limits limits;
  limits.max_pending_bytes = 8 * 1024 * 1024;
  GelfChunkAssembler assembler(limits);
  const std::string slice(100, 'z');
  for (std::uint64_t id = 0; id < 100000; ++id) {
    assembler.add(chunk(id, 0, 128, slice), sender(1), kStart + std::chrono::microseconds(id));
  }
  CHECK(assembler.pending_bytes() <= limits.max_pending_bytes);
  CHECK(assembler.counters().evicted + assembler.pending_messages() == 100000);
  CHECK(assembler.counters().evicted > 90000);
  assembler.clear();
  CHECK(assembler.pending_bytes() == 0);
  CHECK(assembler.counters().expired > 0);
}

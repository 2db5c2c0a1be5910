// HeadTailBuffer: bounded memory, exact head and tail, omitted count, clean UTF-8 seams.
#include "logging/head_tail_buffer.hpp"

#include <catch2/catch.hpp>

using runner::logging::HeadTailBuffer;

TEST_CASE("small text is kept whole", "[logging][headtail]") {
  HeadTailBuffer b(10, 10);
  b.append("hello ");
  b.append("world");
  CHECK(b.text() == "hello world");
  CHECK(b.omitted_bytes() == 0);
}

TEST_CASE("large text keeps head and tail and says how much was left out", "[logging][headtail]") {
  HeadTailBuffer b(4, 6);
  for (int i = 0; i < 1000; ++i) b.append("0123456789");
  CHECK(b.total_bytes() == 10000);
  CHECK(b.omitted_bytes() == 10000 - 10);
  CHECK(b.text() == "0123\n[... 9990 bytes omitted ...]\n456789");
}

TEST_CASE("one huge append keeps the right tail", "[logging][headtail]") {
  HeadTailBuffer b(3, 3);
  b.append(std::string(100, 'x') + "end");
  CHECK(b.text() == "xxx\n[... 97 bytes omitted ...]\nend");
}

TEST_CASE("characters cut at the seams are dropped, not mangled", "[logging][headtail]") {
  HeadTailBuffer b(3, 3);
  b.append(
      "ab\xC3\xA9"
      "middle"
      "\xE2\x82\xAC"
      "z");  // 14 bytes: head "ab\xC3", tail "\x82\xACz"
  CHECK(b.text() == "ab\n[... 8 bytes omitted ...]\nz");
}

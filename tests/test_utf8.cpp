// UTF-8 helpers: validation, repair, incomplete tails and cut points.
#include "common/utf8.hpp"

#include <catch2/catch.hpp>

using namespace runner;

TEST_CASE("validation accepts UTF-8 and rejects overlongs, surrogates and stray bytes",
          "[logging][utf8]") {
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("abc\x80"));
  CHECK_FALSE(is_valid_utf8("\xE2\x82"));  // truncated
}

TEST_CASE("repair replaces each broken sequence once", "[logging][utf8]") {
  std::string out;
  append_sanitized_utf8(out, "a\xE2\x82z\xFF\xFE\xC3\xA9");
  CHECK(out == "a\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD\xC3\xA9");
}

TEST_CASE("incomplete tails and cut points", "[logging][utf8]") {
  CHECK(incomplete_utf8_tail("abc") == 0);
  CHECK(incomplete_utf8_tail("ab\xE2\x82") == 2);
  CHECK(incomplete_utf8_tail("ab\xE2\x82\xAC") == 0);
  CHECK(incomplete_utf8_tail("\xF0\x9F\x98") == 3);
  CHECK(utf8_cut_point("a\xE2\x82\xAC"
                       "b",
                       2) == 1);
  CHECK(utf8_cut_point("a\xE2\x82\xAC"
                       "b",
                       4) == 4);
  CHECK(utf8_cut_point("abc", 10) == 3);
  CHECK(utf8_length("\xC3\xA9t\xC3\xA9") == 3);
  CHECK(utf8_offset("\xC3\xA9t\xC3\xA9", 2) == 3);
}

TEST_CASE("decode_utf8 gives the code point of a valid sequence and 0 for a broken one",
          "[logging][utf8]") {
  std::uint32_t cp = 0;
  CHECK(decode_utf8("\xC3\xA9", 0, cp) == 2);
  CHECK(cp == 0xE9);
  CHECK(decode_utf8("x\xE2\x82\xAC", 1, cp) == 3);
  CHECK(cp == 0x20AC);
  CHECK(decode_utf8("\xF0\x9F\x98\x80", 0, cp) == 4);
  CHECK(cp == 0x1F600);
  CHECK(decode_utf8("A", 0, cp) == 1);
  CHECK(cp == 'A');
  CHECK(decode_utf8("\xC0\xAF", 0, cp) == 0);          // overlong
  CHECK(decode_utf8("\xED\xA0\x80", 0, cp) == 0);      // surrogate
  CHECK(decode_utf8("\xF4\x90\x80\x80", 0, cp) == 0);  // above U+10FFFF
  CHECK(decode_utf8("\xE2\x82", 0, cp) == 0);          // truncated
  CHECK(utf8_sequence_length("\xE2\x82\xAC", 0) == 3);
  CHECK(utf8_sequence_length("\x80", 0) == 0);
}

// UTF-8 helpers: validation, repair, incomplete tails and cut points.
#include "logging/utf8.hpp"

#include <catch2/catch.hpp>

using namespace runner::logging;

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

// The text codecs (secrets/encoding.hpp) on top of OpenSSL's base64 and libcurl's escaping: the
// RFC 4648 vectors, both alphabets with and without padding for every length, the strict decoder
// refusing what is not canonical base64, and the percent-encoding styles of common encoders.
#include <catch2/catch.hpp>

#include "secrets/encoding.hpp"

#include <random>
#include <string>

using runner::secrets::base64_decode;
using runner::secrets::base64_encode;
using runner::secrets::Base64Alphabet;
using runner::secrets::url_encode;

TEST_CASE("base64: RFC 4648 vectors and both alphabets", "[secrets]") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    CHECK(base64_decode(encoded) == std::string(plain));
  }
  const std::string binary("\xfb\xff\xbf\xfe\x00\x3f", 6);
  CHECK(base64_encode(binary) == "+/+//gA/");
  CHECK(base64_encode(binary, Base64Alphabet::UrlSafe) == "-_-__gA_");
  CHECK(base64_encode("f", Base64Alphabet::UrlSafe, false) == "Zg");
  CHECK(base64_decode("-_-__gA_", Base64Alphabet::UrlSafe) == binary);
  CHECK(base64_decode("Zg", Base64Alphabet::Standard, false) == std::string("f"));
  CHECK(base64_decode("Zg==", Base64Alphabet::UrlSafe, false) == std::string("f"));
}

TEST_CASE("base64: every length round-trips in both alphabets, padded or not", "[secrets]") {
  std::mt19937 random(19);
  for (std::size_t length = 0; length < 70; ++length) {
    std::string data(length, '\0');
    for (char& c : data) c = static_cast<char>(random());
    for (const Base64Alphabet alphabet : {Base64Alphabet::Standard, Base64Alphabet::UrlSafe}) {
      for (const bool pad : {true, false}) {
        const std::string encoded = base64_encode(data, alphabet, pad);
        CAPTURE(length, pad, encoded);
        CHECK(encoded.size() == (pad ? (length + 2) / 3 * 4 : (length * 4 + 2) / 3));
        CHECK(base64_decode(encoded, alphabet, pad) == data);
        if (!pad && length % 3 != 0) CHECK(!base64_decode(encoded, alphabet, true));
      }
    }
  }
}

TEST_CASE("base64: the decoder takes canonical text only", "[secrets]") {
  for (const char* text : {"Zg=", "Zg=a", "Z", "Zm9vY", "Zh==", "Zm9=", " Zg==", "Zg==\n", "Zm 9v",
                           "Zm9v====", "=Zm9", "Zg==Zg==", "Zm9v\r\n", "Zm-v", "Zm_v", "Zm9v!"}) {
    CAPTURE(text);
    CHECK(!base64_decode(text));
    CHECK(!base64_decode(text, Base64Alphabet::Standard, false));
  }
  CHECK(!base64_decode("Zm+v", Base64Alphabet::UrlSafe, false));
  CHECK(!base64_decode("Zm/v", Base64Alphabet::UrlSafe, false));
  CHECK(!base64_decode("Zg", Base64Alphabet::Standard, true));  // padding required
  CHECK(!base64_decode("Zg=", Base64Alphabet::Standard, false));
}

TEST_CASE("percent-encoding in the styles of common encoders", "[secrets]") {
  const std::string text = std::string("a b/c~d-e.f_g:\xc3\xbc+") + '\0' + "%";
  // RFC 3986 unreserved kept (Python quote(safe=''), PHP rawurlencode, Go url.PathEscape-like).
  CHECK(url_encode(text) == "a%20b%2Fc~d-e.f_g%3A%C3%BC%2B%00%25");
  CHECK(url_encode(text, "", true) == "a%20b%2Fc%7Ed-e.f_g%3A%C3%BC%2B%00%25");
  CHECK(url_encode(text, "/~", true) == "a%20b/c~d-e.f_g%3A%C3%BC%2B%00%25");
  CHECK(url_encode(text, "~", false) == "a%20b%2fc~d-e.f_g%3a%c3%bc%2b%00%25");
  CHECK(url_encode(text, "", true, true) == "a+b%2Fc%7Ed-e.f_g%3A%C3%BC%2B%00%25");  // forms
  CHECK(url_encode(std::string("\0", 1), std::string("\0", 1)) == "%00");  // NUL is never safe
  CHECK(url_encode("").empty());
}

// GelfPayloadDecoder: plain, zlib and gzip payloads sniffed by magic bytes, a gzip bomb refused
// after at most the limit, and truncated or corrupt streams reported by type.
#include <catch2/catch.hpp>

#include "logging/gelf/payload_decoder.hpp"
#include "logging/gelf/payload_encoder.hpp"

#include <string>

using runner::logging::gelf::compress_payload;
using runner::logging::gelf::DecodeStatus;
using runner::logging::gelf::detect_payload_encoding;
using runner::logging::gelf::GelfPayloadDecoder;
using runner::logging::gelf::PayloadEncoding;

namespace {
const std::string kMessage = R"({"version":"1.1","host":"h","short_message":"hello"})";
}

TEST_CASE("gelf decoder: plain payload is returned as a view of the input", "[gelf]") {
  GelfPayloadDecoder decoder;
  const auto result = decoder.decode(kMessage);
  REQUIRE(result.ok());
  CHECK(result.encoding == PayloadEncoding::plain);
  CHECK(result.bytes == kMessage);
  CHECK(result.bytes.data() == kMessage.data());
}

TEST_CASE("gelf decoder: zlib and gzip are detected by magic bytes", "[gelf]") {
  GelfPayloadDecoder decoder;
  for (const auto encoding : {PayloadEncoding::zlib, PayloadEncoding::gzip}) {
    for (const int level : {1, 6, 9}) {
      const std::string compressed = compress_payload(kMessage, encoding, level);
      CHECK(detect_payload_encoding(compressed) == encoding);
      const auto result = decoder.decode(compressed);
      REQUIRE(result.ok());
      CHECK(result.encoding == encoding);
      CHECK(result.bytes == kMessage);
    }
  }
  // zlib's four usual second bytes, and a 0x78 that fails the header check.
  for (const char second : {'\x01', '\x5e', '\x9c', '\xda'}) {
    CHECK(detect_payload_encoding(std::string("\x78") + second) == PayloadEncoding::zlib);
  }
  CHECK(detect_payload_encoding("\x78\x00") == PayloadEncoding::plain);
  CHECK(detect_payload_encoding("x") == PayloadEncoding::plain);
  CHECK(detect_payload_encoding("") == PayloadEncoding::plain);
}

TEST_CASE("gelf decoder: a payload decoding past the limit is too large", "[gelf]") {
  GelfPayloadDecoder decoder(1000);
  CHECK(decoder.decode(std::string(1000, 'a')).ok());
  const auto plain = decoder.decode(std::string(1001, 'a'));
  CHECK(plain.status == DecodeStatus::too_large);
  const std::string exact = compress_payload(std::string(1000, 'a'), PayloadEncoding::gzip);
  CHECK(decoder.decode(exact).ok());
  const auto over = decoder.decode(compress_payload(std::string(1001, 'a'), PayloadEncoding::zlib));
  CHECK(over.status == DecodeStatus::too_large);
  CHECK(over.reason == "zlib payload inflates to more than 1000 bytes");
}

TEST_CASE("gelf decoder: a gzip bomb is refused quickly with bounded memory", "[gelf]") {
  const std::string zeros(100 * 1000 * 1000, '\0');
  const std::string bomb = compress_payload(zeros, PayloadEncoding::gzip, 9);
  CHECK(bomb.size() < 200 * 1000);
  GelfPayloadDecoder decoder(200 * 1024 + 4096);
  const auto result = decoder.decode(bomb);
  CHECK(result.status == DecodeStatus::too_large);
  // Bounded work, not a stopwatch: with the bomb's checksum broken, a decoder that inflated the
  // whole 100 MB would reach the trailer and report it corrupt; one that stops at the limit
  // never gets there.
  auto break_checksum = [](std::string stream, PayloadEncoding encoding) {
    stream[stream.size() - (encoding == PayloadEncoding::gzip ? 8 : 4)] ^= 0x5a;
    return stream;
  };
  for (const auto encoding : {PayloadEncoding::gzip, PayloadEncoding::zlib}) {
    // Read to its end, a stream broken this way is corrupt...
    CHECK(decoder
              .decode(break_checksum(compress_payload(std::string(1000, '\0'), encoding), encoding))
              .status == DecodeStatus::corrupt);
    // ...and the bomb broken the same way is only ever too large.
    CHECK(decoder.decode(break_checksum(compress_payload(zeros, encoding, 9), encoding)).status ==
          DecodeStatus::too_large);
  }
  // Still usable afterwards.
  const auto next = decoder.decode(compress_payload(kMessage, PayloadEncoding::gzip));
  REQUIRE(next.ok());
  CHECK(next.bytes == kMessage);
}

TEST_CASE("gelf decoder: truncated and corrupt streams", "[gelf]") {
  GelfPayloadDecoder decoder;
  for (const auto encoding : {PayloadEncoding::zlib, PayloadEncoding::gzip}) {
    const std::string name = encoding == PayloadEncoding::zlib ? "zlib" : "gzip";
    const std::string compressed = compress_payload(kMessage, encoding);
    for (std::size_t keep = 2; keep < compressed.size(); ++keep) {
      const auto result = decoder.decode(compressed.substr(0, keep));
      CAPTURE(name, keep);
      CHECK(!result.ok());
      CHECK(result.status != DecodeStatus::too_large);
    }
    const auto truncated = decoder.decode(compressed.substr(0, compressed.size() / 2));
    CHECK(truncated.status == DecodeStatus::truncated);
    CHECK(truncated.reason == name + " payload is truncated");

    std::string corrupt = compressed;
    corrupt[compressed.size() - 2] ^= 0x55;  // inside the checksum trailer
    const auto bad = decoder.decode(corrupt);
    CHECK(bad.status == DecodeStatus::corrupt);
    CHECK(bad.reason.rfind(name + " payload is corrupt: ", 0) == 0);
  }
  // The magic bytes alone, and garbage after them.
  CHECK(decoder.decode("\x1f\x8b").status == DecodeStatus::truncated);
  CHECK(decoder.decode(std::string("\x1f\x8b\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11)).status ==
        DecodeStatus::corrupt);
  CHECK(decoder.decode("\x78\x9c\xff\xff").status == DecodeStatus::corrupt);
}

TEST_CASE("gelf decoder: bytes after the end of the stream are ignored", "[gelf]") {
  GelfPayloadDecoder decoder;
  const std::string padded =
      compress_payload(kMessage, PayloadEncoding::gzip) + std::string(4, '\0');
  const auto result = decoder.decode(padded);
  REQUIRE(result.ok());
  CHECK(result.bytes == kMessage);
}

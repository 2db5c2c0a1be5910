// libFuzzer target for the GELF protocol layer: payload decoding, message validation, chunk
// reassembly, TCP framing and HTTP requests (Beast's parser with runner's limits), all fed from
// one input. It checks that nothing crashes (ASan/UBSan do the rest) and that memory stays
// bounded: decoded payloads never exceed the decoder's limit, pending chunks never exceed the
// assembler's cap, the framer never buffers more than its frame cap, HTTP bodies stay within
// theirs, and a compress/decode round trip gives the input back. Every payload is also validated
// with both JSON readers, simdjson's (the one the server uses) and nlohmann's (the reference),
// which must agree exactly (same reason, or same fields of the same JSON types); simdjson's is
// run once on a padded copy and once in place, in a buffer whose bytes after the text are JSON
// (it must not read them). Built and run by build_and_run_gelf.sh.
//
// Input use: (1) the whole input is one payload (plain, or gzip/zlib by its magic bytes);
// (2) the input is read as datagram records for the assembler: a flags byte, a length byte, then
// the datagram. Flags bit 7 builds a chunk header from the next two bytes (sequence and count,
// mod 8) and message id (flags & 3), so reassembly is reached often; otherwise the bytes are used
// raw. Bits 2-4 advance the clock by 0-7 x 900 ms (expiry); bit 6 picks one of two senders.
// (3) the input split at the byte given by its first byte feeds the TCP framer and the HTTP
// parser in two reads.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "logging/gelf/chunk_assembler.hpp"
#include "logging/gelf/http_request_reader.hpp"
#include "logging/gelf/message.hpp"
#include "logging/gelf/payload_decoder.hpp"
#include "logging/gelf/payload_encoder.hpp"
#include "logging/gelf/tcp_framer.hpp"

namespace {

using namespace runner::logging::gelf;

constexpr std::size_t kMaxDecoded = 64 * 1024;
constexpr std::size_t kMaxPendingChunks = 256 * 1024;
constexpr std::size_t kMaxFrame = 1024;

void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "check failed: %s\n", what);
  std::abort();
}

struct Reader {
  std::string_view input;
  std::size_t position = 0;
  bool done() const { return position >= input.size(); }
  std::uint8_t byte() {
    return position < input.size() ? static_cast<std::uint8_t>(input[position++]) : 0;
  }
  std::string_view bytes(std::size_t n) {
    const std::string_view taken = input.substr(std::min(position, input.size()), n);
    position += taken.size();
    return taken;
  }
};

// Equal values of equal JSON types (json's == calls 1, 1u and 1.0 equal).
bool same_json(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    auto other = b.begin();
    for (auto it = a.begin(); it != a.end(); ++it, ++other) {
      if (it.key() != other.key() || !same_json(it.value(), other.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_json(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_number_float()) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    return x == y && std::signbit(x) == std::signbit(y);
  }
  return a == b;
}

void require_same(const std::optional<InvalidGelfMessage>& failure, const GelfMessage& message,
                  const std::optional<InvalidGelfMessage>& reference_failure,
                  const GelfMessage& reference) {
  require(failure.has_value() == reference_failure.has_value(), "both paths accept or refuse");
  if (failure) {
    require(failure->reason == reference_failure->reason, "both paths give the same reason");
    return;
  }
  require(message.short_message == reference.short_message &&
              message.full_message == reference.full_message && message.host == reference.host &&
              message.timestamp == reference.timestamp && message.level == reference.level,
          "both paths give the same standard fields");
  require(same_json(message.additional, reference.additional),
          "both paths give the same additional fields");
}

// simdjson's reading (or nlohmann's where simdjson refused) against nlohmann's alone, and the
// same text parsed in place inside a buffer that goes on after it.
void check_readers_agree(GelfMessageParser& parser, std::string_view text,
                         const std::optional<InvalidGelfMessage>& failure,
                         const GelfMessage& message) {
  GelfMessage reference;
  const auto reference_failure = parser.parse(text, reference, 0, GelfJsonReader::nlohmann);
  require_same(failure, message, reference_failure, reference);

  std::vector<char> buffer(text.begin(), text.end());
  const std::string_view after = "\"}]},\"x\":[1e999, tru";
  for (std::size_t i = 0; i < kGelfJsonPadding; ++i) buffer.push_back(after[i % after.size()]);
  GelfMessage in_place;
  const auto in_place_failure =
      parser.parse(std::string_view(buffer.data(), text.size()), in_place, kGelfJsonPadding);
  require_same(in_place_failure, in_place, reference_failure, reference);
}

void check_payload(GelfPayloadDecoder& decoder, GelfMessageParser& parser,
                   std::string_view payload) {
  const DecodeResult decoded = decoder.decode(payload);
  if (!decoded.ok()) {
    require(!decoded.reason.empty(), "a failure has a reason");
    return;
  }
  require(decoded.bytes.size() <= kMaxDecoded, "decoded size within the limit");
  require(decoded.encoding == PayloadEncoding::plain || decoded.readable_after >= kGelfJsonPadding,
          "inflated text keeps room for the JSON parser's read-ahead");
  GelfMessage message;
  const auto failure = parser.parse(decoded.bytes, message, decoded.readable_after);
  check_readers_agree(parser, decoded.bytes, failure, message);
  if (failure) {
    require(failure->reason.rfind("Invalid message: ", 0) == 0, "reason prefix");
    return;
  }
  require(message.level >= 0 && message.level <= 7, "level in range");
  require(message.additional.is_object(), "additional is an object");
  (void)event_level_from_syslog(message.level);
  (void)keboola_event_type(message.level);
  (void)message.additional.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

GelfSender sender(bool second) {
  GelfSender s;
  s.address[15] = second ? 2 : 1;
  s.port = 5000;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  GelfPayloadDecoder decoder(kMaxDecoded);
  GelfMessageParser parser;  // reused between payloads, as the server does

  // (1) One payload, and a round trip through compression.
  check_payload(decoder, parser, input);
  if (input.size() <= kMaxDecoded) {
    const std::string compressed = compress_payload(input, PayloadEncoding::zlib, 1);
    const DecodeResult round_trip = decoder.decode(compressed);
    require(round_trip.ok() && round_trip.bytes == input, "zlib round trip");
  }

  // (2) Datagram records through the assembler.
  GelfChunkAssembler assembler(
      GelfChunkAssembler::Limits{std::chrono::milliseconds(5000), kMaxPendingChunks});
  GelfChunkAssembler::Clock::time_point now{std::chrono::hours(1)};
  Reader reader{input};
  while (!reader.done()) {
    const std::uint8_t flags = reader.byte();
    const std::size_t length = reader.byte();
    std::string datagram;
    if (flags & 0x80) {
      const unsigned sequence = reader.byte() % 8;
      const unsigned count = reader.byte() % 8;
      datagram = make_gelf_chunks("", flags & 3, 13)[0].substr(0, GelfChunkAssembler::kHeaderSize);
      datagram[10] = static_cast<char>(sequence);
      datagram[11] = static_cast<char>(count);
    }
    datagram.append(reader.bytes(length));
    now += std::chrono::milliseconds(900) * ((flags >> 2) & 7);
    const auto message = assembler.add(datagram, sender(flags & 0x40), now);
    require(assembler.pending_bytes() <= kMaxPendingChunks, "pending chunks within the cap");
    if (message) check_payload(decoder, parser, *message);
  }
  assembler.clear();
  require(assembler.pending_bytes() == 0 && assembler.pending_messages() == 0, "clear empties");

  // (3) A stream in two reads through the TCP framer and the HTTP parser.
  const std::size_t split =
      input.empty() ? 0 : static_cast<std::uint8_t>(input[0]) % (input.size() + 1);
  GelfTcpFramer framer(
      [&](std::string_view frame) {
        require(frame.size() <= kMaxFrame, "frame within the cap");
        check_payload(decoder, parser, frame);
      },
      kMaxFrame);
  framer.feed(input.substr(0, split));
  require(framer.buffered_bytes() <= kMaxFrame, "framer buffer within the cap");
  framer.feed(input.substr(split));
  require(framer.buffered_bytes() <= kMaxFrame, "framer buffer within the cap");
  framer.finish();

  HttpRequestReader requests(HttpRequestReader::Limits{512, 1024});
  const std::string_view reads[] = {input.substr(0, split), input.substr(split)};
  for (const std::string_view read : reads) {
    requests.append(read);
    for (int guard = 0; guard < 10000; ++guard) {
      const HttpRequestReader::Event event = requests.next();
      if (event == HttpRequestReader::Event::need_more ||
          event == HttpRequestReader::Event::error) {
        break;
      }
      if (event == HttpRequestReader::Event::request) {
        const std::string& body = requests.request().body;
        require(body.size() <= 1024, "body within the cap");
        require(body.capacity() - body.size() >= kGelfJsonPadding, "body keeps padding");
        check_payload(decoder, parser, body);
      }
    }
    require(requests.buffered_bytes() <= 512 + read.size(), "reader buffer bounded");
  }
  return 0;
}

// GelfPayloadDecoder: see the header.
#include "logging/gelf/payload_decoder.hpp"

#include "logging/gelf/message.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>

namespace runner::logging::gelf {

namespace {

constexpr int kZlibWindowBits = 15;
constexpr int kGzipWindowBits = 15 + 16;  // zlib's convention for "expect a gzip header"
constexpr std::size_t kMinimumOutputBuffer = 64 * 1024;

unsigned char byte_at(std::string_view text, std::size_t index) {
  return static_cast<unsigned char>(text[index]);
}

DecodeResult failure(DecodeStatus status, PayloadEncoding encoding, std::string reason) {
  DecodeResult result;
  result.status = status;
  result.encoding = encoding;
  result.reason = std::move(reason);
  return result;
}

}  // namespace

PayloadEncoding detect_payload_encoding(std::string_view payload) {
  if (payload.size() < 2) return PayloadEncoding::plain;
  const unsigned first = byte_at(payload, 0);
  const unsigned second = byte_at(payload, 1);
  if (first == 0x1f && second == 0x8b) return PayloadEncoding::gzip;
  if (first == 0x78 && (first * 256 + second) % 31 == 0) return PayloadEncoding::zlib;
  return PayloadEncoding::plain;
}

std::string_view payload_encoding_name(PayloadEncoding encoding) {
  switch (encoding) {
    case PayloadEncoding::gzip:
      return "gzip";
    case PayloadEncoding::zlib:
      return "zlib";
    case PayloadEncoding::plain:
      break;
  }
  return "plain";
}

// Owns one z_stream for the decoder's lifetime. zlib keeps a pointer back to the z_stream in its
// state, so the object lives on the heap and never moves.
class GelfPayloadDecoder::Inflater {
 public:
  Inflater() {
    if (inflateInit2(&stream_, kGzipWindowBits) != Z_OK) throw std::bad_alloc();
  }
  ~Inflater() { inflateEnd(&stream_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  z_stream& start(int window_bits) {
    if (inflateReset2(&stream_, window_bits) != Z_OK)
      throw std::logic_error("inflateReset2 failed");
    return stream_;
  }

 private:
  z_stream stream_{};
};

GelfPayloadDecoder::GelfPayloadDecoder(std::size_t max_output)
    : max_output_(std::min(max_output, std::numeric_limits<std::size_t>::max() - 1)) {}

GelfPayloadDecoder::~GelfPayloadDecoder() = default;
GelfPayloadDecoder::GelfPayloadDecoder(GelfPayloadDecoder&&) noexcept = default;
GelfPayloadDecoder& GelfPayloadDecoder::operator=(GelfPayloadDecoder&&) noexcept = default;

DecodeResult GelfPayloadDecoder::decode(std::string_view payload) {
  const PayloadEncoding encoding = detect_payload_encoding(payload);
  if (encoding != PayloadEncoding::plain) return inflate_payload(payload, encoding);
  if (payload.size() > max_output_) {
    return failure(DecodeStatus::too_large, encoding,
                   "payload of " + std::to_string(payload.size()) + " bytes exceeds the limit of " +
                       std::to_string(max_output_) + " bytes");
  }
  DecodeResult result;
  result.bytes = payload;
  return result;
}

DecodeResult GelfPayloadDecoder::inflate_payload(std::string_view payload,
                                                 PayloadEncoding encoding) {
  const std::string name(payload_encoding_name(encoding));
  if (payload.size() > std::numeric_limits<uInt>::max()) {
    return failure(DecodeStatus::too_large, encoding, name + " payload is too large to inflate");
  }
  if (!inflater_) inflater_ = std::make_unique<Inflater>();
  z_stream& stream =
      inflater_->start(encoding == PayloadEncoding::gzip ? kGzipWindowBits : kZlibWindowBits);

  // One byte of room past the limit: producing it proves the payload is too large.
  const std::size_t capacity_limit = max_output_ + 1;
  if (output_.size() < kMinimumOutputBuffer) {
    output_.resize(std::min(capacity_limit, std::max(kMinimumOutputBuffer, payload.size() * 4)));
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  stream.avail_in = static_cast<uInt>(payload.size());
  std::size_t produced = 0;
  for (;;) {
    if (produced == output_.size()) {
      output_.resize(std::min(capacity_limit, output_.size() * 2));
    }
    const std::size_t room =
        std::min<std::size_t>(output_.size() - produced, std::numeric_limits<uInt>::max());
    stream.next_out = reinterpret_cast<Bytef*>(output_.data() + produced);
    stream.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&stream, Z_NO_FLUSH);
    produced += room - stream.avail_out;
    if (produced > max_output_) {
      return failure(
          DecodeStatus::too_large, encoding,
          name + " payload inflates to more than " + std::to_string(max_output_) + " bytes");
    }
    if (rc == Z_STREAM_END) break;
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      const char* detail = stream.msg != nullptr ? stream.msg : "needs a preset dictionary";
      return failure(DecodeStatus::corrupt, encoding, name + " payload is corrupt: " + detail);
    }
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    // Z_OK or Z_BUF_ERROR: either the output buffer is full (grow it and go on) or the input
    // ended before the stream did.
    if (stream.avail_out != 0 && stream.avail_in == 0) {
      return failure(DecodeStatus::truncated, encoding, name + " payload is truncated");
    }
  }
  // Room after the text for the JSON parser's read-ahead (see kGelfJsonPadding); rarely grows.
  if (output_.size() - produced < kGelfJsonPadding) output_.resize(produced + kGelfJsonPadding);
  DecodeResult result;
  result.encoding = encoding;
  result.bytes = std::string_view(output_.data(), produced);
  result.readable_after = output_.size() - produced;
  return result;
}

}  // namespace runner::logging::gelf

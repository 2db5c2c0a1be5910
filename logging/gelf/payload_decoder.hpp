// GelfPayloadDecoder: turns one GELF payload (a UDP datagram, a reassembled chunked message or an
// HTTP body) into JSON text, inflating gzip or zlib with a hard cap on the output.
//
// The encoding is sniffed from the magic bytes, never taken from headers (clients label zlib
// bodies "gzip,deflate"): `1f 8b` is gzip, `78 xx` with (256*b0+b1) % 31 == 0 is zlib, anything
// else is plain text. Inflation stops as soon as the output passes the limit, so a gzip bomb costs
// at most `max_output` bytes of memory and the time to produce them. One z_stream is kept and
// reset between payloads (inflateReset2), which is several times cheaper than a fresh
// inflateInit2 per datagram at the message rates GELF over UDP sees. Data after the end of the
// compressed stream is ignored, as Graylog's Java streams do.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace runner::logging::gelf {

enum class PayloadEncoding { plain, gzip, zlib };

PayloadEncoding detect_payload_encoding(std::string_view payload);
std::string_view payload_encoding_name(PayloadEncoding encoding);

enum class DecodeStatus { ok, too_large, corrupt, truncated };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::ok;
  PayloadEncoding encoding = PayloadEncoding::plain;
  // When ok: the decoded bytes. A plain payload is returned as a view of the input itself; an
  // inflated one is a view of the decoder's buffer, valid until its next decode().
  std::string_view bytes;
  // Inflated: bytes of the decoder's buffer readable after `bytes`, at least kGelfJsonPadding
  // (message.hpp), so the JSON parser reads the text in place. Plain: 0 (the caller knows).
  std::size_t readable_after = 0;
  std::string reason;  // when not ok, e.g. "gzip payload is truncated"

  bool ok() const { return status == DecodeStatus::ok; }
};

class GelfPayloadDecoder {
 public:
  static constexpr std::size_t default_max_output = 8 * 1024 * 1024;

  // `max_output`: the largest decoded size accepted; a payload that decodes (or, plain, is) larger
  // fails with too_large.
  explicit GelfPayloadDecoder(std::size_t max_output = default_max_output);
  ~GelfPayloadDecoder();
  GelfPayloadDecoder(GelfPayloadDecoder&&) noexcept;
  GelfPayloadDecoder& operator=(GelfPayloadDecoder&&) noexcept;

  DecodeResult decode(std::string_view payload);
  std::size_t max_output() const { return max_output_; }

 private:
  class Inflater;  // owns the z_stream (inflateEnd in its destructor)

  DecodeResult inflate_payload(std::string_view payload, PayloadEncoding encoding);

  std::size_t max_output_;
  std::unique_ptr<Inflater> inflater_;  // created on the first compressed payload
  std::string output_;  // reused; its size is its usable capacity, not the decoded length
};

}  // namespace runner::logging::gelf

// StreamDemuxer: splits Docker's multiplexed attach/logs stream into stdout and stderr payloads.
//
// Without a TTY the engine frames output as an 8-byte header {stream type, 0, 0, 0, big-endian
// uint32 size} followed by `size` payload bytes. A read can end anywhere, inside a header or a
// payload, so the demuxer keeps only the partial header (at most 7 bytes) between calls and hands
// payload bytes on as soon as they arrive: a large frame is never buffered whole.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace runner::docker {

enum class OutputStream : std::uint8_t { stdin_ = 0, stdout_ = 1, stderr_ = 2, system = 3 };

class StreamDemuxer {
 public:
  using PayloadFn = std::function<void(OutputStream, std::string_view)>;

  explicit StreamDemuxer(PayloadFn on_payload) : on_payload_(std::move(on_payload)) {}

  // Consumes any number of bytes; calls on_payload for every payload piece found in them.
  void feed(std::string_view bytes);

  // True when the stream ended cleanly, between frames.
  bool at_frame_boundary() const { return header_fill_ == 0 && remaining_ == 0; }

  // Bytes delivered so far per stream type (stdout, stderr), for counters and tests.
  std::uint64_t payload_bytes() const { return payload_bytes_; }

 private:
  PayloadFn on_payload_;
  std::array<unsigned char, 8> header_{};
  std::size_t header_fill_ = 0;
  std::uint32_t remaining_ = 0;
  OutputStream current_ = OutputStream::stdout_;
  std::uint64_t payload_bytes_ = 0;
};

}  // namespace runner::docker

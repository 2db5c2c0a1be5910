// GelfTcpFramer: splits one TCP connection's byte stream into GELF frames.
//
// Frames end with NUL (the GELF rule) or newline (what some clients send). Each connection has its
// own framer, so a slow or broken client never corrupts another's messages (Keboola's server
// shares one buffer). A frame longer than `max_frame` (2 MiB, Graylog's cap) is dropped and
// counted, and the framer resynchronises at the next delimiter, so a client that never sends a
// delimiter costs at most `max_frame` bytes. Frames found whole inside one read are handed on as
// views of the input, without copying; only a frame spanning reads is buffered. Empty and
// whitespace-only frames (a "\r\n" or "\0\n" pair) are skipped. finish() hands on a final frame
// that had no delimiter, as Graylog counts it when the connection closes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace runner::logging::gelf {

class GelfTcpFramer {
 public:
  using FrameFn = std::function<void(std::string_view frame)>;

  static constexpr std::size_t default_max_frame = 2 * 1024 * 1024;

  explicit GelfTcpFramer(FrameFn on_frame, std::size_t max_frame = default_max_frame);

  void feed(std::string_view bytes);
  // End of the stream: hands on the pending frame, if any (or counts it oversized).
  void finish();

  std::uint64_t frames() const { return frames_; }
  std::uint64_t oversized() const { return oversized_; }
  std::size_t buffered_bytes() const { return pending_.size(); }

 private:
  void emit(std::string_view frame);
  void end_frame(std::string_view tail);

  FrameFn on_frame_;
  std::size_t max_frame_;
  std::string pending_;
  bool discarding_ = false;  // inside a frame already counted oversized; skip to its delimiter
  std::uint64_t frames_ = 0;
  std::uint64_t oversized_ = 0;
};

}  // namespace runner::logging::gelf

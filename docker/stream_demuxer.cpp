// StreamDemuxer: see the header. A plain loop over the input; no copies of payload bytes.
#include "docker/stream_demuxer.hpp"

#include <algorithm>

namespace runner::docker {

void StreamDemuxer::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (remaining_ > 0) {
      const std::size_t take = std::min<std::size_t>(remaining_, bytes.size());
      remaining_ -= static_cast<std::uint32_t>(take);
      payload_bytes_ += take;
      on_payload_(current_, bytes.substr(0, take));
      bytes.remove_prefix(take);
      continue;
    }
    const std::size_t take = std::min(header_.size() - header_fill_, bytes.size());
    std::copy_n(bytes.data(), take, header_.data() + header_fill_);
    header_fill_ += take;
    bytes.remove_prefix(take);
    if (header_fill_ < header_.size()) return;
    header_fill_ = 0;
    const unsigned type = header_[0];
    current_ = type <= 3 ? static_cast<OutputStream>(type) : OutputStream::system;
    remaining_ = (static_cast<std::uint32_t>(header_[4]) << 24) |
                 (static_cast<std::uint32_t>(header_[5]) << 16) |
                 (static_cast<std::uint32_t>(header_[6]) << 8) |
                 static_cast<std::uint32_t>(header_[7]);
  }
}

}  // namespace runner::docker

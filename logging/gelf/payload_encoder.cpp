// Payload compression and chunking for senders: see the header.
#include "logging/gelf/payload_encoder.hpp"

#include "logging/gelf/chunk_assembler.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace runner::logging::gelf {

namespace {

// Owns one deflate z_stream (deflateEnd in the destructor).
class Deflater {
 public:
  Deflater(int level, int window_bits) {
    if (deflateInit2(&stream_, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::bad_alloc();
    }
  }
  ~Deflater() { deflateEnd(&stream_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::string compress(std::string_view input) {
    if (input.size() > std::numeric_limits<uInt>::max()) throw std::length_error("payload too big");
    std::string output(deflateBound(&stream_, static_cast<uLong>(input.size())), '\0');
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream_.avail_in = static_cast<uInt>(input.size());
    stream_.next_out = reinterpret_cast<Bytef*>(output.data());
    stream_.avail_out = static_cast<uInt>(output.size());
    if (deflate(&stream_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
    output.resize(output.size() - stream_.avail_out);
    return output;
  }

 private:
  z_stream stream_{};
};

}  // namespace

std::string compress_payload(std::string_view payload, PayloadEncoding encoding, int level) {
  if (encoding == PayloadEncoding::plain) return std::string(payload);
  Deflater deflater(level, encoding == PayloadEncoding::gzip ? 15 + 16 : 15);
  return deflater.compress(payload);
}

std::vector<std::string> make_gelf_chunks(std::string_view payload, std::uint64_t message_id,
                                          std::size_t max_datagram) {
  const std::size_t header = GelfChunkAssembler::kHeaderSize;
  if (max_datagram <= header) throw std::length_error("datagram too small for a chunk");
  const std::size_t slice = max_datagram - header;
  const std::size_t count = payload.empty() ? 1 : (payload.size() + slice - 1) / slice;
  if (count > GelfChunkAssembler::kMaxChunks) throw std::length_error("more than 128 chunks");
  std::vector<std::string> chunks;
  chunks.reserve(count);
  for (std::size_t sequence = 0; sequence < count; ++sequence) {
    std::string chunk(header, '\0');
    chunk[0] = '\x1e';
    chunk[1] = '\x0f';
    std::memcpy(chunk.data() + 2, &message_id, 8);
    chunk[10] = static_cast<char>(sequence);
    chunk[11] = static_cast<char>(count);
    chunk.append(payload.substr(std::min(payload.size(), sequence * slice), slice));
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

}  // namespace runner::logging::gelf

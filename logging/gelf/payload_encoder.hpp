// The sending side of GELF: compress a message as gzip or zlib and cut a payload into chunk
// datagrams. The server never needs it; the tests, the fuzz target and a load generator do, and
// they should all produce exactly what real clients send (graypy, Docker's gelf driver).
#pragma once

#include "logging/gelf/payload_decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace runner::logging::gelf {

// gzip or zlib stream of `payload` (plain returns it unchanged). Level as zlib's (-1 default).
std::string compress_payload(std::string_view payload, PayloadEncoding encoding, int level = -1);

// Cuts `payload` into chunk datagrams of at most `max_datagram` bytes (header included), in
// sequence order. Throws std::length_error when that needs more than 128 chunks.
std::vector<std::string> make_gelf_chunks(std::string_view payload, std::uint64_t message_id,
                                          std::size_t max_datagram = 1420);

}  // namespace runner::logging::gelf

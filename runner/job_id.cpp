// new_job_id: see the header (RFC 9562 layout: 48-bit ms time, version 7, variant 10).
#include "runner/job_id.hpp"

#include "runner/errors.hpp"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdint>

namespace runner {

std::string new_job_id() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data() + 6, 10) != 1)
    throw InternalError("cannot read random bytes for a job id");
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

}  // namespace runner

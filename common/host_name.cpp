// host_name(): see the header.
#include "common/host_name.hpp"

#include <unistd.h>

#include <array>

namespace runner {

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0') return "unknown";
  return buf.data();
}

}  // namespace runner

// host_name(): this machine's name, asked for in one place. It is written into every container's
// io.runner.host label and into worker ids, and `runner gc` compares a container's label with it
// to decide whether the runner that started the container could still be alive on this machine:
// so every caller must get the same answer, failure included.
#pragma once

#include <string>

namespace runner {

// gethostname(), or "unknown" when it fails or gives an empty name.
std::string host_name();

}  // namespace runner

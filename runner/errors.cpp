// ConfigError: joins its problems into what() so a plain catch still prints all of them.
#include "runner/errors.hpp"

namespace runner {
namespace {
std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}
}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : Error(ErrorKind::invalid_config, join_lines(problems)), problems_(std::move(problems)) {}

}  // namespace runner

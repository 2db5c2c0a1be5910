// ConfigError joins its problems into what() so a plain catch still prints all of them;
// exit_code() is the table from error kinds to the documented exit codes.
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

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage:
      return kExitUsage;
    case ErrorKind::invalid_config:
      return kExitInvalidComponent;
    case ErrorKind::user:
      return kExitUserError;
    case ErrorKind::not_found:
      return kExitNotFound;
    case ErrorKind::engine_unavailable:
      return kExitEngineUnavailable;
    case ErrorKind::store_unavailable:
      return kExitStoreUnavailable;
    case ErrorKind::export_failed:
      return kExitExportFailed;
    case ErrorKind::internal:
      break;
  }
  return kExitInternal;
}

}  // namespace runner

// runner::Error, the one root of every error runner's libraries throw, and ErrorKind, what
// failed.
//
// As in CLI11, an error says what kind of failure it is, and that alone decides how it is
// reported: the process exit code (README.md) and a job's error type. The kinds are few and
// fixed; each library's own error types (docker::EngineError, store::StoreError, ...) derive from
// Error with the kind that fits them, so a caller that does not handle one still reports it
// correctly. The exit codes are here with the kinds (one table, exit_code()); the translation of
// any exception into a job's outcome is runner::classify() (runner/job_outcome.hpp).
#pragma once

#include <stdexcept>
#include <string>

namespace runner {

enum class ErrorKind : unsigned char {
  usage,           // a bad command line or option (exit 64)
  invalid_config,  // an invalid component or configuration file (65)
  user,            // a problem the component's author can fix: missing image, refused config (1)
  not_found,       // no such job (66)
  engine_unavailable,  // the Docker engine cannot be reached or is too old (69)
  internal,            // a bug or an environment runner cannot work in (70)
  store_unavailable,   // the store cannot be opened or read (74)
  export_failed,       // an exporter kept failing; try again later (75)
};

// runner's exit codes (README.md).
enum ExitCode : int {
  kExitSuccess = 0,
  kExitUserError = 1,
  kExitApplicationError = 2,
  kExitUsage = 64,             // bad command line
  kExitInvalidComponent = 65,  // invalid component file
  kExitNotFound = 66,          // no such job in the store
  kExitEngineUnavailable = 69,
  kExitInternal = 70,
  kExitStoreUnavailable = 74,  // the store cannot be opened or read
  kExitExportFailed = 75,      // an exporter kept failing (`runner ship`); try again later
  kExitInterrupted = 130,      // SIGINT
  kExitTerminated = 143,       // SIGTERM
};

// The process exit code for an error of `kind`.
constexpr int exit_code(ErrorKind kind) {
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

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return runner::exit_code(kind_); }

 private:
  ErrorKind kind_;
};

}  // namespace runner

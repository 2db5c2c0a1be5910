// runner::Error, the one root of every error runner's libraries throw, and ErrorKind, what
// failed.
//
// As in CLI11, an error says what kind of failure it is, and that alone decides how it is
// reported: the process exit code (README.md) and a job's error type. The kinds are few and
// fixed; each library's own error types (docker::EngineError, store::StoreError, ...) derive from
// Error with the kind that fits them, so a caller that does not handle one still reports it
// correctly. The translation to exit codes and job outcomes is in one place: runner::classify()
// (runner/errors.hpp).
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

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace runner

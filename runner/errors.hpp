// The runner's error types and the exit codes they map to (documented in README.md).
//
// As in CLI11, every failure the CLI can report is one type in a small hierarchy, and each type
// knows its exit code, so `main` needs a single catch to exit correctly.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace runner {

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

class RunnerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const = 0;
};

class UsageError : public RunnerError {
 public:
  using RunnerError::RunnerError;
  int exit_code() const override { return kExitUsage; }
};

// One line per problem, each naming the JSON path and what was expected.
class ConfigError : public RunnerError {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }
  int exit_code() const override { return kExitInvalidComponent; }

 private:
  std::vector<std::string> problems_;
};

class EngineUnavailableError : public RunnerError {
 public:
  using RunnerError::RunnerError;
  int exit_code() const override { return kExitEngineUnavailable; }
};

// A problem the component's author can fix (missing image, rejected configuration).
class UserError : public RunnerError {
 public:
  using RunnerError::RunnerError;
  int exit_code() const override { return kExitUserError; }
};

class NotFoundError : public RunnerError {
 public:
  using RunnerError::RunnerError;
  int exit_code() const override { return kExitNotFound; }
};

class StoreUnavailableError : public RunnerError {
 public:
  using RunnerError::RunnerError;
  int exit_code() const override { return kExitStoreUnavailable; }
};

class ExportFailedError : public RunnerError {
 public:
  using RunnerError::RunnerError;
  int exit_code() const override { return kExitExportFailed; }
};

class InternalError : public RunnerError {
 public:
  using RunnerError::RunnerError;
  int exit_code() const override { return kExitInternal; }
};

}  // namespace runner

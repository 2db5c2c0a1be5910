// The runner's error types and the exit codes they map to (documented in README.md).
//
// Every error derives from runner::Error (common/error.hpp) and carries its ErrorKind; the types
// here are the runner's own, one per kind, so a throw site says what failed in one word. The
// kind decides the exit code (common/error.hpp) and, for a job, the error type: classify()
// (runner/job_outcome.hpp) is the one place an exception becomes an outcome, used by `runner
// run`, the worker and the library alike.
#pragma once

#include "common/error.hpp"

#include <string>
#include <vector>

namespace runner {

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(ErrorKind::usage, what) {}
};

// One line per problem, each naming the JSON path and what was expected.
class ConfigError : public Error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

class EngineUnavailableError : public Error {
 public:
  explicit EngineUnavailableError(const std::string& what)
      : Error(ErrorKind::engine_unavailable, what) {}
};

// A problem the component's author can fix (missing image, rejected configuration).
class UserError : public Error {
 public:
  explicit UserError(const std::string& what) : Error(ErrorKind::user, what) {}
};

class NotFoundError : public Error {
 public:
  explicit NotFoundError(const std::string& what) : Error(ErrorKind::not_found, what) {}
};

class StoreUnavailableError : public Error {
 public:
  explicit StoreUnavailableError(const std::string& what)
      : Error(ErrorKind::store_unavailable, what) {}
};

class ExportFailedError : public Error {
 public:
  explicit ExportFailedError(const std::string& what) : Error(ErrorKind::export_failed, what) {}
};

class InternalError : public Error {
 public:
  explicit InternalError(const std::string& what) : Error(ErrorKind::internal, what) {}
};

}  // namespace runner
